// Search page: Pagefind's interface, with links that work from any folder of any host.
(function () {
  "use strict";
  var box = document.getElementById("search");
  if (!box) { return; }
  if (window.location.protocol === "file:" || typeof PagefindUI === "undefined") {
    document.querySelector(".search-offline").hidden = false;
    return;
  }
  var base = new URL(box.dataset.base, window.location.href).pathname;
  var ui = new PagefindUI({
    element: "#search",
    bundlePath: box.dataset.bundle,
    baseUrl: base,
    showSubResults: true,
    showImages: false,
    resetStyles: false
  });
  var input = box.querySelector("input");
  if (input) { input.setAttribute("aria-labelledby", "search-label"); }
  var query = new URLSearchParams(window.location.search).get("q");
  if (query) { ui.triggerSearch(query); }
}());
