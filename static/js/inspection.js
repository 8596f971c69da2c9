/* Filling in an inspection on a phone: nothing entered is lost when the signal drops.
 *
 * form#inspection-form (one checklist section; app/templates/inspections/inspection_fill.html):
 * - every score / note is copied to localStorage on each change, keyed by inspection id and
 *   item ("bianmin-inspection:<id>:<item>"), marked pending until the server has it;
 * - changes are saved automatically (POST …/save, Accept: application/json) through a queue
 *   kept in localStorage ("bianmin-inspection-queue:<id>"): each save has its own save_id,
 *   so a save resent after a lost answer is applied once; the queue is sent in order,
 *   each with the lock_version the previous answer returned, and sent again when the
 *   `online` event fires, every 20 s while something waits, and on the next page load;
 * - the section buttons save through the same queue, then go to the next page;
 * - a photo is uploaded as soon as it is taken (POST …/photos with its own client_key);
 *   offline it is kept in IndexedDB and uploaded later with the same client_key (the server
 *   stores one photo per key);
 * - on load, a pending local value newer than the server's last save is put back.
 * [data-inspection-summary] (the summary page) only sends what is still waiting.
 *
 * No inline code (CSP); the CSRF token comes from the form's data-csrf (header X-CSRFToken).
 */
(function () {
  "use strict";

  var PREFIX = "bianmin-inspection:";
  var QUEUE = "bianmin-inspection-queue:";
  var DB_NAME = "bianmin-inspection-photos";
  var RETRY_MS = 20000;

  function store() {
    try {
      var s = window.localStorage;
      s.setItem(PREFIX + "probe", "1");
      s.removeItem(PREFIX + "probe");
      return s;
    } catch (e) {
      return null;
    }
  }
  var storage = store();

  function uuid() {
    if (window.crypto && window.crypto.randomUUID) {
      return window.crypto.randomUUID();
    }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function readJSON(key, fallback) {
    if (!storage) {
      return fallback;
    }
    try {
      var value = JSON.parse(storage.getItem(key) || "null");
      return value === null ? fallback : value;
    } catch (e) {
      return fallback;
    }
  }

  function writeJSON(key, value) {
    if (!storage) {
      return;
    }
    try {
      storage.setItem(key, JSON.stringify(value));
    } catch (e) {
      /* storage full: the server copy still holds what was saved */
    }
  }

  /* --- photos kept offline (IndexedDB) ------------------------------------------------- */

  function openDB() {
    return new Promise(function (resolve, reject) {
      if (!window.indexedDB) {
        reject(new Error("no indexedDB"));
        return;
      }
      var request = window.indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore("photos", { keyPath: "client_key" });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function dbDo(mode, work) {
    return openDB().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction("photos", mode);
        var result = work(tx.objectStore("photos"));
        tx.oncomplete = function () { resolve(result && result.result !== undefined ? result.result : result); };
        tx.onerror = function () { reject(tx.error); };
      });
    });
  }

  function keepPhoto(record) {
    return dbDo("readwrite", function (s) { return s.put(record); });
  }

  function dropPhoto(clientKey) {
    return dbDo("readwrite", function (s) { return s["delete"](clientKey); });
  }

  function keptPhotos(inspection) {
    return dbDo("readonly", function (s) { return s.getAll(); }).then(function (all) {
      return (all || []).filter(function (r) { return r.inspection === inspection; });
    })["catch"](function () { return []; });
  }

  /* --- one inspection's page ------------------------------------------------------------- */

  function Page(root) {
    this.root = root;
    this.form = root.tagName === "FORM" ? root : null;
    this.id = root.getAttribute("data-inspection") || root.getAttribute("data-inspection-summary");
    this.csrf = root.getAttribute("data-csrf") || "";
    this.saveUrl = root.getAttribute("data-save-url");
    this.photoUrl = root.getAttribute("data-photo-url");
    this.lock = parseInt(root.getAttribute("data-lock-version") || "0", 10) || null;
    this.status = document.querySelector("[data-save-status]");
    this.flushing = false;
    this.timer = null;
    this.retry = null;
    this.stopped = false;
  }

  Page.prototype.msg = function (name) {
    var holder = this.form || this.root;
    return holder.getAttribute("data-msg-" + name) || "";
  };

  Page.prototype.say = function (text, kind) {
    if (!this.status) {
      return;
    }
    this.status.textContent = text;
    this.status.className = "alert" + (kind ? " " + kind : "");
    this.status.hidden = !text;
  };

  Page.prototype.setLock = function (value) {
    if (!value) {
      return;
    }
    this.lock = value;
    document.querySelectorAll("input[name=lock_version]").forEach(function (el) {
      el.value = String(value);
    });
  };

  Page.prototype.fields = function () {
    var out = {};
    if (!this.form) {
      return out;
    }
    Array.prototype.forEach.call(this.form.elements, function (el) {
      if (el.name && /^(score|note)_/.test(el.name)) {
        out[el.name] = el.value;
      }
    });
    return out;
  };

  Page.prototype.itemKey = function (name) {
    return PREFIX + this.id + ":" + name.replace(/^(score|note)_/, "");
  };

  Page.prototype.remember = function (el) {
    var key = this.itemKey(el.name);
    var entry = readJSON(key, {});
    entry[el.name.split("_")[0]] = el.value;
    entry.at = Date.now();
    entry.pending = true;
    writeJSON(key, entry);
  };

  Page.prototype.markSaved = function (fields) {
    var self = this;
    Object.keys(fields).forEach(function (name) {
      var key = self.itemKey(name);
      var entry = readJSON(key, null);
      var kind = name.split("_")[0];
      if (entry && entry.pending && (entry[kind] === undefined || entry[kind] === fields[name])) {
        var other = kind === "score" ? "note" : "score";
        var otherName = other + name.slice(kind.length);
        if (entry[other] === undefined || fields[otherName] === undefined || entry[other] === fields[otherName]) {
          entry.pending = false;
          writeJSON(key, entry);
        }
      }
    });
  };

  Page.prototype.restore = function () {
    var self = this;
    if (!this.form || !storage) {
      return false;
    }
    var serverAt = Date.parse(this.form.getAttribute("data-updated-at") || "") || 0;
    var restored = false;
    Array.prototype.forEach.call(this.form.elements, function (el) {
      if (!el.name || !/^(score|note)_/.test(el.name)) {
        return;
      }
      var entry = readJSON(self.itemKey(el.name), null);
      var kind = el.name.split("_")[0];
      if (entry && entry.pending && entry.at > serverAt && entry[kind] !== undefined && entry[kind] !== el.value) {
        el.value = entry[kind];
        restored = true;
      }
    });
    if (restored) {
      var notice = document.querySelector("[data-restored]");
      if (notice) {
        notice.hidden = false;
      }
    }
    return restored;
  };

  Page.prototype.queue = function () {
    return readJSON(QUEUE + this.id, []);
  };

  Page.prototype.setQueue = function (items) {
    if (items.length) {
      writeJSON(QUEUE + this.id, items.slice(-20));
    } else if (storage) {
      storage.removeItem(QUEUE + this.id);
    }
  };

  Page.prototype.enqueue = function () {
    if (!this.form) {
      return;
    }
    var items = this.queue();
    items.push({
      save_id: uuid(),
      section: this.form.getAttribute("data-section"),
      fields: this.fields()
    });
    this.setQueue(items);
  };

  Page.prototype.schedule = function () {
    var self = this;
    if (this.timer) {
      window.clearTimeout(this.timer);
    }
    this.timer = window.setTimeout(function () {
      self.timer = null;
      self.enqueue();
      self.flush();
    }, 700);
  };

  Page.prototype.showErrors = function (errors) {
    if (!this.form) {
      return;
    }
    var self = this;
    Object.keys(errors).forEach(function (key) {
      var box = self.form.querySelector("[data-item=\"" + key + "\"]");
      if (!box) {
        return;
      }
      box.classList.add("has-error");
      var p = box.querySelector("p.error");
      if (!p) {
        p = document.createElement("p");
        p.className = "error";
        p.setAttribute("role", "alert");
        box.querySelector(".score-row").insertAdjacentElement("afterend", p);
      }
      p.textContent = errors[key];
    });
  };

  Page.prototype.clearErrors = function () {
    if (!this.form) {
      return;
    }
    this.form.querySelectorAll("fieldset.insp-item.has-error").forEach(function (box) {
      box.classList.remove("has-error");
      var p = box.querySelector("p.error");
      if (p) {
        p.remove();
      }
    });
  };

  /* Send what waits, in order.  Resolves true once the queue is empty. */
  Page.prototype.flush = function () {
    var self = this;
    if (this.flushing) {
      return this.flushing;
    }
    if (this.stopped) {
      return Promise.resolve(false);
    }
    this.flushing = new Promise(function (resolve) {
      function next() {
        var items = self.queue();
        if (!items.length) {
          resolve(true);
          return;
        }
        var item = items[0];
        var body = new FormData();
        body.append("csrf_token", self.csrf);
        body.append("section", item.section);
        body.append("save_id", item.save_id);
        body.append("lock_version", String(self.lock || ""));
        Object.keys(item.fields).forEach(function (name) {
          body.append(name, item.fields[name]);
        });
        self.say(self.msg("saving"));
        fetch(self.saveUrl, {
          method: "POST",
          body: body,
          credentials: "same-origin",
          headers: { "Accept": "application/json", "X-CSRFToken": self.csrf }
        }).then(function (response) {
          return response.json().then(function (data) {
            return { status: response.status, data: data };
          }, function () {
            return { status: response.status, data: {} };
          });
        }).then(function (answer) {
          var rest = self.queue().filter(function (q) { return q.save_id !== item.save_id; });
          if (answer.status === 200) {
            self.setQueue(rest);
            self.setLock(answer.data.lock_version);
            self.markSaved(item.fields);
            self.clearErrors();
            self.say(self.msg("saved"), "ok");
            next();
          } else if (answer.status === 422) {
            self.setQueue(rest);
            self.showErrors(answer.data.errors || {});
            self.say("", "");
            next();
          } else if (answer.status === 409) {
            self.setQueue([]);
            self.stopped = true;
            self.say(answer.data.error || "", "error");
            resolve(false);
          } else {
            self.say(self.msg("offline"), "warn");
            self.later();
            resolve(false);
          }
        })["catch"](function () {
          self.say(self.msg("offline"), "warn");
          self.later();
          resolve(false);
        });
      }
      next();
    }).then(function (done) {
      self.flushing = false;
      return done;
    });
    return this.flushing;
  };

  Page.prototype.later = function () {
    var self = this;
    if (this.retry) {
      return;
    }
    this.retry = window.setTimeout(function () {
      self.retry = null;
      self.flush();
      self.flushPhotos();
    }, RETRY_MS);
  };

  /* --- photos ---------------------------------------------------------------------------- */

  Page.prototype.thumb = function (itemKey, url, pending) {
    var box = document.querySelector("[data-photos=\"" + itemKey + "\"]");
    if (!box) {
      return null;
    }
    var a = document.createElement("a");
    a.className = "thumb" + (pending ? " pending" : "");
    a.href = url;
    var img = document.createElement("img");
    img.src = url;
    img.alt = itemKey;
    a.appendChild(img);
    box.appendChild(a);
    return a;
  };

  Page.prototype.sendPhoto = function (record) {
    var self = this;
    var body = new FormData();
    body.append("csrf_token", self.csrf);
    body.append("item_key", record.item_key);
    body.append("client_key", record.client_key);
    body.append("file", record.blob, record.name || "photo.jpg");
    return fetch(self.photoUrl, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": self.csrf }
    }).then(function (response) {
      return response.json().then(function (data) {
        return { status: response.status, data: data };
      }, function () {
        return { status: response.status, data: {} };
      });
    });
  };

  Page.prototype.takePhoto = function (input) {
    var self = this;
    var itemKey = input.getAttribute("data-photo-for");
    Array.prototype.forEach.call(input.files || [], function (file) {
      var record = {
        client_key: uuid(),
        inspection: self.id,
        item_key: itemKey,
        name: file.name,
        blob: file
      };
      self.sendPhoto(record).then(function (answer) {
        if (answer.status === 200 || answer.status === 201) {
          self.thumb(itemKey, answer.data.url, false);
          self.say(self.msg("photo"), "ok");
        } else if (answer.status >= 400 && answer.status < 500) {
          self.showErrors(fromPhoto(itemKey, answer.data.error));
        } else {
          throw new Error("server");
        }
      })["catch"](function () {
        keepPhoto(record).then(function () {
          self.thumb(itemKey, URL.createObjectURL(file), true);
          self.say(self.msg("photo-queued"), "warn");
          self.later();
        })["catch"](function () {
          self.say(self.msg("offline"), "warn");
        });
      });
    });
    input.value = "";
  };

  function fromPhoto(itemKey, error) {
    var out = {};
    out[itemKey] = error || "";
    return out;
  }

  Page.prototype.flushPhotos = function () {
    var self = this;
    return keptPhotos(this.id).then(function (records) {
      return records.reduce(function (chain, record) {
        return chain.then(function () {
          return self.sendPhoto(record).then(function (answer) {
            if (answer.status === 200 || answer.status === 201) {
              return dropPhoto(record.client_key).then(function () {
                if (self.form) {
                  self.form.querySelectorAll(".thumb.pending").forEach(function (t) { t.remove(); });
                  self.thumb(record.item_key, answer.data.url, false);
                }
              });
            }
            if (answer.status >= 400 && answer.status < 500 && answer.status !== 409) {
              self.showErrors(fromPhoto(record.item_key, answer.data.error));
              return dropPhoto(record.client_key);
            }
            self.later();
            return null;
          }, function () {
            self.later();
          });
        });
      }, Promise.resolve());
    });
  };

  Page.prototype.showKeptPhotos = function () {
    var self = this;
    keptPhotos(this.id).then(function (records) {
      records.forEach(function (r) {
        self.thumb(r.item_key, URL.createObjectURL(r.blob), true);
      });
    });
  };

  /* --- wiring ---------------------------------------------------------------------------- */

  Page.prototype.init = function () {
    var self = this;
    if (this.root.getAttribute("data-inspection-ready") === "1") {
      return;
    }
    this.root.setAttribute("data-inspection-ready", "1");
    if (this.form) {
      var form = this.form;
      if (this.restore()) {
        this.enqueue();
      }
      this.showKeptPhotos();
      form.querySelectorAll("[data-quick]").forEach(function (q) { q.hidden = false; });
      form.addEventListener("click", function (event) {
        var button = event.target.closest ? event.target.closest("button.quick-score") : null;
        if (!button) {
          return;
        }
        var input = document.getElementById(button.getAttribute("data-for"));
        if (input) {
          input.value = button.getAttribute("data-score");
          input.dispatchEvent(new Event("input", { bubbles: true }));
        }
      });
      function changed(event) {
        var el = event.target;
        if (el.name && /^(score|note)_/.test(el.name)) {
          self.remember(el);
          self.schedule();
        } else if (el.type === "file" && el.hasAttribute("data-photo-for") && event.type === "change") {
          self.takePhoto(el);
        }
      }
      form.addEventListener("input", changed);
      form.addEventListener("change", changed);
      form.addEventListener("submit", function (event) {
        var go = event.submitter && event.submitter.value;
        var target = form.getAttribute("data-" + (go || "next") + "-url");
        if (!target || self.stopped) {
          return;
        }
        event.preventDefault();
        if (self.timer) {
          window.clearTimeout(self.timer);
          self.timer = null;
        }
        self.enqueue();
        self.flush().then(function (done) {
          if (done && !form.querySelector("fieldset.insp-item.has-error")) {
            window.location.assign(go === "stay" ? target + "?saved=1" : target);
          }
        });
      });
    }
    window.addEventListener("online", function () {
      self.flush();
      self.flushPhotos();
    });
    this.flush();
    this.flushPhotos();
  };

  function start() {
    var root = document.getElementById("inspection-form") ||
      document.querySelector("[data-inspection-summary]");
    if (root) {
      new Page(root).init();
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
