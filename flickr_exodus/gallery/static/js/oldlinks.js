// "Paste an old Flickr link": a Flickr URL of a photo, a video or an album becomes this
// gallery's page for it, when the gallery holds it. The URL rules are those of
// flickr_exodus/gallery/links.py parse(); the ids this gallery holds are in
// data/links/p-NN.js (items) and a-NN.js (albums), NN the id's last two digits.
"use strict";
(function () {
  const BASE58 = "123456789abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ";
  const STATIC = /^\/(?:[0-9]+\/)+([0-9]+)_[0-9a-f]+(?:_[0-9a-z]+)?\.[a-z0-9]+$/;
  const PHOTO = /^\/photos\/[^/]+\/([0-9]+)(?:\/.*)?$/s;
  const ALBUM = /^\/photos\/[^/]+\/(?:albums|sets)\/([0-9]+)(?:\/.*)?$/s;
  const SHORT = /^\/([ps])\/([1-9a-km-zA-HJ-NP-Z]{1,20})\/?$/;
  const FLICKR = ["flickr.com", "www.flickr.com", "m.flickr.com", "secure.flickr.com"];
  const lists = {};
  const loading = new Map();

  function base58(text) {
    let n = 0n;
    for (const ch of text) n = n * 58n + BigInt(BASE58.indexOf(ch));
    return n.toString();
  }

  function parse(text) {
    let url = (text || "").trim();
    if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(url)) url = "https://" + url;
    let parts;
    try { parts = new URL(url); } catch { return null; }
    if (parts.protocol !== "http:" && parts.protocol !== "https:") return null;
    const host = parts.hostname.toLowerCase(), path = parts.pathname;
    let match;
    if (host === "flic.kr" && (match = SHORT.exec(path))) {
      return [match[1] === "p" ? "photo" : "album", base58(match[2])];
    }
    if ((host === "staticflickr.com" || host.endsWith(".staticflickr.com") || host.endsWith(".static.flickr.com"))
        && (match = STATIC.exec(path))) return ["photo", match[1]];
    if (FLICKR.includes(host)) {
      if ((match = ALBUM.exec(path))) return ["album", match[1]];
      if ((match = PHOTO.exec(path))) return ["photo", match[1]];
    }
    return null;
  }

  function load(name) {
    if (!loading.has(name)) {
      loading.set(name, new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = `data/links/${name}.js`;
        script.onload = () => resolve(lists[name] || []);
        script.onerror = () => reject(new Error("this gallery has no list of its links: build it again"));
        document.head.appendChild(script);
      }));
    }
    return loading.get(name);
  }

  // The local page of a URL, or a sentence saying why there is none.
  async function resolve(text) {
    const found = parse(text);
    if (!found) return { message: "That is not a Flickr link to a photo, a video or an album." };
    const [kind, id] = found;
    const bucket = id.slice(-2).padStart(2, "0");
    const held = await load(`${kind === "photo" ? "p" : "a"}-${bucket}`);
    if (!held.includes(id)) return { message: `That ${kind} (${id}) is not in this gallery.` };
    return { page: `${kind === "photo" ? "photos" : "albums"}/${id}.html` };
  }

  async function go(text) {
    const status = document.getElementById("oldlink-status");
    try {
      const found = await resolve(text);
      if (found.page) { location.assign(found.page); return; }
      status.textContent = found.message;
    } catch (error) {
      status.textContent = error.message;
    }
    status.dataset.done = "1";
  }

  window.exodusLinks = { add(name, ids) { lists[name] = ids; } };
  window.exodusOldLinks = { parse, base58, resolve, go };

  document.addEventListener("DOMContentLoaded", () => {
    const params = new URLSearchParams(location.search);
    const box = document.getElementById("oldlink-url");
    const link = params.get("link") || "";
    const query = params.get("q") || "";
    if (link.trim()) { if (box) box.value = link; go(link); }
    else if (parse(query)) { if (box) box.value = query; go(query); }  // a link pasted into a search box
  });
})();
