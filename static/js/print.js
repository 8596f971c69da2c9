/* The "Print" button of the printable papers: shown only when scripts run (CSP-safe). */
(function () {
  function bind(root) {
    root.querySelectorAll("button[data-print]").forEach(function (button) {
      if (button.dataset.printBound) return;
      button.dataset.printBound = "1";
      button.hidden = false;
      button.addEventListener("click", function () { window.print(); });
    });
  }
  bind(document);
  document.addEventListener("htmx:afterSettle", function (event) { bind(event.target); });
})();
