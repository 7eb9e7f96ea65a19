// The gallery's search, offline. The index is in data/search/ as scripts that register
// themselves (Chromium will not fetch() a file:// URL): meta.js holds the directories, a
// t-*.js shard holds some terms' postings, a d-*.js shard some documents' titles, pages and
// thumbnails. A query loads only what it needs. The rules of fold(), words(), terms() and
// fnv1a() are those of flickr_exodus/gallery/search.py: the two must agree.
"use strict";
(function () {
  const SHOWN = 60;           // results drawn; the count says how many there are
  const PREFIX_SHARDS = 8;    // a one-letter prefix may not load half the index
  const UNSPACED = [[0x0E00, 0x0EFF], [0x1000, 0x109F], [0x1780, 0x17FF], [0x3040, 0x30FF],
    [0x31F0, 0x31FF], [0x3400, 0x4DBF], [0x4E00, 0x9FFF], [0xF900, 0xFAFF], [0x20000, 0x3134F]];
  const WORDISH = /^[\p{L}\p{M}\p{N}]$/u;
  const store = {};
  const loading = new Map();

  function fold(text) {
    return text.normalize("NFKC").toLowerCase().normalize("NFD")
      .replace(/[\u0300-\u036f]/g, "").normalize("NFC");
  }

  function unspaced(ch) {
    const code = ch.codePointAt(0);
    return UNSPACED.some(([low, high]) => low <= code && code <= high);
  }

  function words(text) {
    const chars = Array.from(fold(text));
    const found = [];
    let current = [], kind = null;
    chars.forEach((ch, i) => {
      if ((ch === "'" || ch === "\u2019") && i > 0 && i < chars.length - 1
          && WORDISH.test(chars[i - 1]) && WORDISH.test(chars[i + 1])) return;
      const here = WORDISH.test(ch) ? (unspaced(ch) ? "cjk" : "word") : null;
      if (here !== kind && current.length) { found.push(current.join("")); current = []; }
      kind = here;
      if (here) current.push(ch);
    });
    if (current.length) found.push(current.join(""));
    return found;
  }

  function terms(text) {
    const found = new Set();
    for (const word of words(text)) {
      const chars = Array.from(word);
      if (unspaced(chars[0])) {
        chars.forEach((ch, i) => { found.add(ch); if (i + 1 < chars.length) found.add(ch + chars[i + 1]); });
      } else found.add(word);
    }
    return [...found].sort();
  }

  function fnv1a(text) {
    let value = 0x811C9DC5;
    for (const byte of new TextEncoder().encode(text)) {
      value = Math.imul(value ^ byte, 0x01000193) >>> 0;
    }
    return value >>> 0;
  }

  function hex(n) { return n.toString(16).padStart(8, "0"); }

  function load(name) {
    if (!loading.has(name)) {
      loading.set(name, new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = `data/search/${name}.js`;
        script.onload = () => resolve(store[name]);
        script.onerror = () => reject(new Error(`the search index lacks ${name}.js: build the gallery again`));
        document.head.appendChild(script);
      }));
    }
    return loading.get(name);
  }

  // The last directory entry not after key: the shard that would hold it.
  function shardOf(directory, key, before) {
    let low = 0, high = directory.length - 1, found = 0;
    while (low <= high) {
      const mid = (low + high) >> 1;
      if (!before(key, directory[mid])) { found = mid; low = mid + 1; } else high = mid - 1;
    }
    return found;
  }
  const textBefore = (a, b) => a < b;
  const numberBefore = (a, b) => a < b;

  function decode(postings) {
    const out = [];
    let last = 0;
    for (const gap of postings.split(",")) { last += parseInt(gap, 36); out.push(last); }
    return out;
  }

  // What a query asks for: groups of terms, every group matched by at least one of its terms.
  function plan(query) {
    const all = words(query);
    const groups = [];
    all.forEach((word, i) => {
      const chars = Array.from(word);
      if (unspaced(chars[0])) {
        if (chars.length === 1) groups.push({ exact: word });
        for (let k = 0; k + 1 < chars.length; k++) groups.push({ exact: chars[k] + chars[k + 1] });
      } else groups.push(i === all.length - 1 ? { prefix: word } : { exact: word });
    });
    return groups;
  }

  async function matches(meta, group) {
    const dir = meta.terms;
    if (!dir.length) return [];
    const key = group.exact ?? group.prefix;
    const first = shardOf(dir, key, textBefore);
    const last = group.prefix ? Math.min(shardOf(dir, key + "\uffff", textBefore), first + PREFIX_SHARDS - 1) : first;
    const ids = new Set();
    for (let i = first; i <= last; i++) {
      const shard = await load(`t-${hex(fnv1a(dir[i]))}`);
      for (const [term, postings] of Object.entries(shard)) {
        if (group.exact ? term === key : term.startsWith(key)) decode(postings).forEach((n) => ids.add(n));
      }
    }
    return [...ids];
  }

  async function search(query) {
    const meta = await load("meta");
    if (typeof meta.docs === "string") meta.docs = meta.docs ? decode(meta.docs) : [];
    const groups = plan(query);
    if (!groups.length) return { ids: [], docs: [] };
    const sets = await Promise.all(groups.map((g) => matches(meta, g)));
    sets.sort((a, b) => a.length - b.length);
    let hits = sets[0];
    for (const other of sets.slice(1)) { const keep = new Set(other); hits = hits.filter((n) => keep.has(n)); }
    hits.sort((a, b) => b - a);  // newest first: Flickr's ids grow with time
    const shown = hits.slice(0, SHOWN);
    const names = [...new Set(shown.map((n) => `d-${hex(fnv1a(String(meta.docs[shardOf(meta.docs, n, numberBefore)])))}`))];
    const shards = await Promise.all(names.map(load));
    const docs = {};
    shards.forEach((shard) => Object.assign(docs, shard));
    return { ids: hits, docs: shown.map((n) => [String(n), docs[String(n)]]).filter(([, d]) => d) };
  }

  // Only our own relative paths: never a scheme, never another host.
  function local(path) {
    return typeof path === "string" && path !== "" && !/^[a-z][a-z0-9+.-]*:/i.test(path)
      && !path.startsWith("/") && !path.startsWith("\\");
  }

  function draw(list, found) {
    list.replaceChildren();
    for (const [id, [url, title, thumb]] of found.docs) {
      const item = document.createElement("li");
      const link = document.createElement("a");
      if (local(url)) link.href = url;
      link.dataset.id = id;
      if (local(thumb)) {
        const img = document.createElement("img");
        img.src = thumb;
        img.alt = "";
        img.loading = "lazy";
        link.append(img);
      }
      const caption = document.createElement("span");
      caption.textContent = title || id;
      link.append(caption);
      item.append(link);
      list.append(item);
    }
  }

  async function run(query) {
    const status = document.getElementById("search-status");
    const list = document.getElementById("search-results");
    const started = performance.now();
    try {
      const found = await search(query);
      const ms = performance.now() - started;
      draw(list, found);
      window.exodusSearch.lastMs = ms;
      status.textContent = found.ids.length
        ? `${found.ids.length} found${found.ids.length > SHOWN ? `, the newest ${SHOWN} shown` : ""} (${Math.round(ms)} ms)`
        : "Nothing found.";
    } catch (error) {
      status.textContent = error.message;
    }
    status.dataset.done = "1";
  }

  window.exodusSearch = {
    add(name, data) { store[name] = data; },
    fold, words, terms, fnv1a, plan, search, run,
  };

  document.addEventListener("DOMContentLoaded", () => {
    const query = new URLSearchParams(location.search).get("q") || "";
    if (window.exodusOldLinks && window.exodusOldLinks.parse(query)) return;  // oldlinks.js takes it
    const box = document.getElementById("search-q");
    if (box) box.value = query;
    if (query.trim()) run(query);
  });
})();
