// exodus audit: the contact sheet. The items come from data.js (window.exodusAudit; a file://
// page may not fetch()), in the report's order, riskiest first. Each group renders a page of
// cards at a time (10,000 items open at once); filters and "select all shown" work on the
// data, not on the cards. Every text is set as text (textContent), never as markup; face
// boxes are placed through the CSSOM, which the page's Content-Security-Policy allows.
(function () {
  "use strict";
  var data = window.exodusAudit;
  if (!data || !Array.isArray(data.items) || !Array.isArray(data.reasons)) { return; }
  var PAGE = 120;
  var VIEWABLE = /\.(jpe?g|png|gif|webp|bmp)$/i;  // as sheet.py's VIEWABLE
  var items = data.items;
  var reasons = data.reasons;
  var picked = new Set();
  var groups = {};
  var near = null;  // the observer that fills a group as its "Show more" comes near
  var ticks = document.getElementsByClassName("pick");  // live: the cards rendered now
  var status = document.getElementById("picked");
  var reasonFilter = document.getElementById("reason-filter");

  document.querySelectorAll("section.group").forEach(function (section) {
    var risk = section.getAttribute("data-risk");
    groups[risk] = {section: section, list: [], shown: 0, cards: document.getElementById("cards-" + risk),
                    more: document.getElementById("more-" + risk), count: document.getElementById("count-" + risk),
                    total: 0};
  });
  items.forEach(function (item) { if (groups[item.r]) { groups[item.r].total += 1; } });

  function wanted() {
    var risks = new Set();
    document.querySelectorAll("#risk-filter input[name=risk]").forEach(function (box) {
      if (box.checked) { risks.add(box.value); }
    });
    var code = reasonFilter.value;
    return function (item) {
      return risks.has(item.r) && (!code || item.why.some(function (n) { return reasons[n][0] === code; }));
    };
  }

  function element(tag, className, text) {
    var made = document.createElement(tag);
    if (className) { made.className = className; }
    if (text !== undefined) { made.textContent = text; }
    return made;
  }

  function frame(item) {
    var box = element("div", "frame");
    if (!item.img) {
      box.appendChild(element("span", "placeholder", item.m === "video" ? "video" : "no preview"));
      return box;
    }
    var img = element("img");
    img.loading = "lazy";
    img.decoding = "async";
    img.alt = "";
    if (item.w && item.h) { img.width = item.w; img.height = item.h; }
    img.src = item.img;
    if (item.o && item.o !== item.img && VIEWABLE.test(item.o)) {
      // a rendition the gallery has since replaced (a new original): the original itself instead
      img.addEventListener("error", function () { img.src = item.o; }, {once: true});
    }
    if (item.o) {
      var link = element("a");
      link.href = item.o;
      link.tabIndex = -1;  // the title's checkbox is the card's stop for the keyboard; the original is linked below
      link.appendChild(img);
      box.appendChild(link);
    } else {
      box.appendChild(img);
    }
    item.f.forEach(function (face) {
      var mark = element("span", "face");
      mark.setAttribute("aria-hidden", "true");
      mark.style.left = face[0] + "%";
      mark.style.top = face[1] + "%";
      mark.style.width = face[2] + "%";
      mark.style.height = face[3] + "%";
      box.appendChild(mark);
    });
    return box;
  }

  function card(item) {
    var li = element("li", "card risk-" + item.r);
    li.setAttribute("data-id", item.id);
    li.appendChild(frame(item));
    var label = element("label", "title");
    var tick = element("input", "pick");
    tick.type = "checkbox";
    tick.value = item.id;
    tick.checked = picked.has(item.id);
    label.appendChild(tick);
    var title = element("span", "", item.t || "(untitled)");
    title.title = item.t;
    label.appendChild(title);
    li.appendChild(label);
    var why = element("ul", "reasons");
    item.why.forEach(function (n) {
      var reason = element("li", "", reasons[n][1]);
      reason.setAttribute("data-code", reasons[n][0]);
      reason.title = reasons[n][0];
      why.appendChild(reason);
    });
    li.appendChild(why);
    var links = element("p", "links", item.id + " ");
    if (item.o) {
      var original = element("a", "", item.m === "video" ? "video" : "original");
      original.href = item.o;
      links.appendChild(original);
      links.appendChild(document.createTextNode(" "));
    }
    if (item.u) {
      var flickr = element("a", "", "on Flickr");
      flickr.href = item.u;
      flickr.rel = "noreferrer noopener";
      links.appendChild(flickr);
    }
    li.appendChild(links);
    return li;
  }

  function fill(group) {
    var end = Math.min(group.list.length, group.shown + PAGE);
    var cards = document.createDocumentFragment();
    for (var n = group.shown; n < end; n += 1) { cards.appendChild(card(group.list[n])); }
    group.cards.appendChild(cards);
    group.shown = end;
    var left = group.list.length - end;
    group.more.hidden = left <= 0;
    group.more.textContent = "Show " + Math.min(PAGE, left) + " more (" + left + " not shown yet)";
    if (near && left > 0) {  // observed anew: still in view after this page, the next one comes too
      near.unobserve(group.more);
      near.observe(group.more);
    }
  }

  function apply() {
    var match = wanted();
    Object.keys(groups).forEach(function (risk) {
      var group = groups[risk];
      group.list = items.filter(function (item) { return item.r === risk && match(item); });
      group.cards.textContent = "";
      group.shown = 0;
      group.section.hidden = group.list.length === 0;
      group.count.textContent = "(" + (group.list.length === group.total ? group.total
                                       : group.list.length + " shown of " + group.total) + ")";
      fill(group);
    });
    say();
  }

  function say() {
    var match = wanted();
    var hidden = items.filter(function (item) { return picked.has(item.id) && !match(item); }).length;
    status.textContent = picked.size + " selected" + (hidden ? " (" + hidden + " of them not shown by the filters)" : "");
  }

  function sync() {
    for (var n = 0; n < ticks.length; n += 1) { ticks[n].checked = picked.has(ticks[n].value); }
    say();
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.classList && target.classList.contains("pick")) {
      if (target.checked) { picked.add(target.value); } else { picked.delete(target.value); }
      say();
    } else if (target.name === "risk" || target === reasonFilter) {
      apply();
    }
  });

  document.getElementById("select-shown").addEventListener("click", function () {
    Object.keys(groups).forEach(function (risk) {
      groups[risk].list.forEach(function (item) { picked.add(item.id); });
    });
    sync();
  });

  document.getElementById("clear-selection").addEventListener("click", function () {
    picked.clear();
    sync();
  });

  document.getElementById("save-selection").addEventListener("click", function () {
    var chosen = items.filter(function (item) { return picked.has(item.id); })
      .map(function (item) { return item.id; });
    if (!chosen.length) {
      status.textContent = "Nothing is selected: tick the photos to save first.";
      return;
    }
    var url = URL.createObjectURL(new Blob([chosen.join("\n") + "\n"], {type: "text/plain"}));
    var link = element("a");
    link.href = url;
    link.download = "exodus-selection.txt";
    link.hidden = true;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
    status.textContent = chosen.length + " id" + (chosen.length === 1 ? "" : "s") +
      " saved as exodus-selection.txt, among your downloads";
  });

  near = "IntersectionObserver" in window ? new IntersectionObserver(function (seen) {
    seen.forEach(function (entry) {
      if (entry.isIntersecting) { fill(groups[entry.target.id.slice("more-".length)]); }
    });
  }, {rootMargin: "800px"}) : null;
  Object.keys(groups).forEach(function (risk) {
    var group = groups[risk];
    group.more.addEventListener("click", function () { fill(group); });
  });

  apply();
}());
