// Live reload for `build.py serve`: waits for the next build, then reloads the page,
// or shows why the build failed, over the page, until the brief is fixed.
(function () {
  "use strict";
  var script = document.currentScript;
  var generation = Number(script.dataset.generation);
  var overlay = null;

  function showError(message) {
    if (!overlay) {
      overlay = document.createElement("div");
      overlay.id = "fieldbrief-build-error";
      overlay.setAttribute("role", "alert");
      overlay.style.cssText = "position:fixed;inset:auto 0 0 0;max-height:60vh;overflow:auto;" +
        "background:#2b0d0d;color:#ffe5e5;font:14px/1.5 monospace;padding:1em 1.2em;" +
        "z-index:2147483647;border-top:4px solid #ff2b2b;white-space:pre-wrap";
      document.body.appendChild(overlay);
    }
    overlay.textContent = "The last build failed; showing the site as it was before.\n\n" + message;
  }

  function poll() {
    fetch("/__fieldbrief__/state?since=" + generation, { cache: "no-store" })
      .then(function (response) { return response.json(); })
      .then(function (state) {
        if (state.error) {
          generation = state.generation;
          showError(state.error);
        } else if (state.generation !== generation) {
          window.location.reload();
          return;
        }
        poll();
      })
      .catch(function () { window.setTimeout(poll, 1000); });
  }
  poll();
}());
