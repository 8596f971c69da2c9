#!/usr/bin/env bash
# Re-extract the translatable strings and merge them into the catalogues.
#
#   infra/dev/update-messages.sh
#
# Reads babel.cfg (Python under app/, Jinja templates under app/templates/), writes a
# temporary .pot and merges it into app/locale/<locale>/LC_MESSAGES/messages.po for every
# locale below (`pybabel init` for a locale that has no catalogue yet).  Existing
# translations are kept; new ids arrive with an empty msgstr (no fuzzy guesses), ids no
# longer in the source are kept at the end of the file as obsolete (#~) entries.
#
# Then translate every empty msgstr in the zh_Hans catalogue: tests/web/test_i18n.py fails
# on any missing, empty or fuzzy zh_Hans translation.  The en catalogue may stay empty
# (the English ids are the English text).  No .mo files: app/web/i18n.py compiles the
# .po in memory at start-up.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

PYBABEL=${PYBABEL:-.venv/bin/pybabel}
LOCALE_DIR=app/locale
LOCALES=(zh_Hans en)

if [[ ! -x $PYBABEL ]]; then
    echo "update-messages: $PYBABEL not found; run 'make test' (or 'make run') once to create .venv" >&2
    exit 1
fi

pot=$(mktemp "${TMPDIR:-/tmp}/bianmin-messages.XXXXXX.pot")
old=$(mktemp "${TMPDIR:-/tmp}/bianmin-messages.XXXXXX.po")
trap 'rm -f "$pot" "$old"' EXIT

# Keywords: babel's defaults (_, gettext, ngettext, …) plus the lazy forms.  A comment
# starting with `TRANSLATORS:` just above a call is copied into the catalogues.  Locations
# name files only (line numbers would churn with every edit; the test prints file:line).
"$PYBABEL" --quiet extract \
    -F babel.cfg \
    -k _l -k lazy_gettext \
    --project=Bianmin \
    --copyright-holder="Bianmin" \
    --add-comments=TRANSLATORS: \
    --add-location=file \
    --sort-by-file \
    -o "$pot" \
    .

for locale in "${LOCALES[@]}"; do
    po="$LOCALE_DIR/$locale/LC_MESSAGES/messages.po"
    if [[ -f $po ]]; then
        cp "$po" "$old"
        "$PYBABEL" --quiet update \
            -i "$pot" -d "$LOCALE_DIR" -l "$locale" \
            --no-fuzzy-matching
        # Nothing but the creation date changed: keep the file as it was (no churn in git).
        if diff -q <(grep -v '^"POT-Creation-Date: ' "$old") \
                   <(grep -v '^"POT-Creation-Date: ' "$po") >/dev/null; then
            cp "$old" "$po"
        fi
    else
        "$PYBABEL" --quiet init -i "$pot" -d "$LOCALE_DIR" -l "$locale"
    fi
done

total=$(grep -c '^msgid "' "$pot" || true)
echo "update-messages: $((total - 1)) messages in babel.cfg sources; catalogues in $LOCALE_DIR/{$(IFS=,; echo "${LOCALES[*]}")}"
