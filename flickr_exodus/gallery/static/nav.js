// exodus gallery: arrow keys move to the previous / next photo of the current context.
// The photostream's neighbours are links in the page itself; an album's or a tag's order
// (?in=album-ID or ?in=tag-SLUG) comes from site/data/contexts/, loaded as a script
// (file:// pages may not fetch()), which calls exodusContext().
(function () {
  "use strict";
  var item = document.getElementById("item");
  if (!item) { return; }
  var here = item.getAttribute("data-id");
  var prev = document.getElementById("prev");
  var next = document.getElementById("next");
  var label = document.getElementById("context");
  var name = new URLSearchParams(window.location.search).get("in") || "";

  function point(link, id, query) {
    if (id) {
      link.href = id + ".html" + query;
      link.hidden = false;
    } else {
      link.removeAttribute("href");
      link.hidden = true;
    }
  }

  window.exodusContext = function (loaded, data) {
    if (loaded !== name || !data || !Array.isArray(data.ids)) { return; }
    var at = data.ids.indexOf(here);
    if (at < 0) { return; }
    var query = "?in=" + encodeURIComponent(name);
    point(prev, data.ids[at - 1], query);
    point(next, data.ids[at + 1], query);
    label.textContent = "";
    var back = document.createElement("a");
    back.href = "../" + data.href;
    back.textContent = (name.indexOf("tag-") === 0 ? "tag: " : "album: ") + data.title;
    label.appendChild(back);
    label.appendChild(document.createTextNode(" (" + (at + 1) + " of " + data.ids.length + ")"));
  };

  if (/^(album-[0-9]{1,20}|tag-[a-z0-9-]{1,60})$/.test(name)) {
    var script = document.createElement("script");
    script.src = "../data/contexts/" + name + ".js";
    document.body.appendChild(script);
  }

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) { return; }
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT|VIDEO)$/.test(target.tagName))) { return; }
    var link = event.key === "ArrowLeft" ? prev : event.key === "ArrowRight" ? next : null;
    if (link && link.getAttribute("href")) {
      event.preventDefault();
      window.location.href = link.href;
    }
  });
}());
