// Search page: Pagefind's interface over the index shards of the page's language, merged in
// the browser, with links that work from any folder of any host.
(function () {
  "use strict";
  var box = document.getElementById("search");
  if (!box) { return; }
  if (window.location.protocol === "file:" || typeof PagefindUI === "undefined") {
    document.querySelector(".search-offline").hidden = false;
    return;
  }
  var here = window.location.href;
  var bundle = new URL(box.dataset.bundle, here).pathname;
  var base = new URL(box.dataset.base, here).pathname;
  var EXCERPT = 12;  // words around a match: the interface's own length with sub-results

  // The index Pagefind would choose for this page among these languages (its own rule):
  // the page's language, else its primary subtag, else the language with the most pages.
  function choose(language, counts) {
    if (counts[language]) { return language; }
    var primary = language.split("-")[0];
    if (counts[primary]) { return primary; }
    return Object.keys(counts).sort(function (a, b) { return counts[b] - counts[a]; })[0];
  }

  function start(listing) {
    var language = (document.documentElement.getAttribute("lang") || "unknown").toLowerCase();
    var totals = {};
    listing.shards.forEach(function (shard) {
      Object.keys(shard.languages).forEach(function (name) {
        totals[name] = (totals[name] || 0) + shard.languages[name];
      });
    });
    var chosen = choose(language, totals);
    var shards = listing.shards.filter(function (shard) { return shard.languages[chosen]; });
    if (!shards.length) { return; }  // no brief is published: nothing to search
    // The first index opened loads Pagefind's WebAssembly for its own language: open one
    // whose own choice is the chosen language, and merge the others in that language, all
    // at once (the interface would merge them one after another, a round trip each).
    var first = shards.filter(function (shard) {
      return choose(language, shard.languages) === chosen;
    })[0] || shards[0];
    import(bundle + "pagefind.js").then(function (pagefind) {
      // options before init take effect at init; the interface's own options come later
      return pagefind.options({basePath: bundle + first.path, baseUrl: base, excerptLength: EXCERPT})
        .then(pagefind.init)
        .then(function () {
          return Promise.all(shards.filter(function (shard) { return shard !== first; })
            .map(function (shard) {
              return pagefind.mergeIndex(bundle + shard.path,
                                         {language: chosen, baseUrl: base, excerptLength: EXCERPT});
            }));
        });
    }).then(show);
  }

  function show() {
    var ui = new PagefindUI({  // it imports the same pagefind.js, with every shard merged
      element: "#search",
      bundlePath: bundle,
      baseUrl: base,
      excerptLength: EXCERPT,
      showSubResults: true,
      showImages: false,
      resetStyles: false
    });
    var input = box.querySelector("input");
    if (input) { input.setAttribute("aria-labelledby", "search-label"); }
    var query = new URLSearchParams(window.location.search).get("q");
    if (query) { ui.triggerSearch(query); }
  }

  fetch(bundle + "shards.json", {cache: "no-cache"})
    .then(function (response) { return response.json(); })
    .then(start);
}());
