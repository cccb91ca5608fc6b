// Installs Parlor's browser files into the Streamlit page (not the component iframe that evaluates this), once,
// then runs one command on the bridge. Evaluated by streamlit_js_eval as `(loader)(window.parent, urls,
// command)`; resolves to what the bridge answers, for Python:
//   a seat config      point the bridge at this player's seat (and remember it in the tab)
//   {probe: room}      the tab's stored seat and, for the room link's code, a "Continue as" offer
//   {forget: {room, player}} or null   stop the bridge and forget that seat in both storages
// The files are static URLs (Streamlit's static serving, `?v=` the file's hash) that the browser caches, so a
// rerun sends only this loader. They run in the order given (async = false). A script element is added once per
// page, as before: each file decides itself whether an older copy already installed in the page stays.
// A file that fails to load is asked for again, with a URL no cache on the way has seen, a few times with growing
// waits, and so is every file after it (they ran without it, so they run again in order). When it still fails,
// the page says so, with a reload button, instead of waiting on "Restoring your seat…" for ever.
function (w, urls, command) {
  const doc = w.document;
  const ATTEMPTS = 4; // the first load, then three more after RETRY_MS, twice that, and twice again
  const RETRY_MS = 500;
  const FAILED_ID = "parlor-load-failed";
  // One schedule for the page: the install, probe and wait iframes each evaluate this loader.
  const loads = (w.parlorLoads = w.parlorLoads || { attempt: 0, retryAt: 0 });
  const files = Object.entries(urls).map(([name, url]) => ({ id: "parlor-" + name.replace(/\W/g, "-"), url }));
  const add = (file) => {
    const script = doc.createElement("script");
    script.id = file.id;
    script.async = false;
    // Handlers compiled in the page, not in this iframe: another iframe may be the one that waits.
    script.setAttribute("onload", "this.dataset.state = 'loaded'");
    script.setAttribute("onerror", "this.dataset.state = 'failed'");
    const retry = loads.attempt ? (file.url.includes("?") ? "&" : "?") + "retry=" + loads.attempt + "-" + Date.now() : "";
    script.src = file.url + retry;
    doc.head.appendChild(script);
    return script;
  };
  const showFailure = () => {
    if (doc.getElementById(FAILED_ID)) return;
    const fr = /^fr\b/i.test((w.navigator && w.navigator.language) || "");
    const box = doc.createElement("div");
    box.id = FAILED_ID;
    box.setAttribute("role", "alert");
    box.style.cssText =
      "position:fixed;top:0;left:0;right:0;z-index:1000000;padding:1rem;text-align:center;" +
      "background:#fff4d6;color:#1f1f1f;font:16px/1.4 sans-serif;box-shadow:0 2px 6px rgba(0,0,0,.2)";
    const text = doc.createElement("p");
    text.textContent = fr
      ? "Parlor n'a pas pu charger ses scripts : la connexion est peut-être coupée."
      : "Parlor could not load its scripts: the connection may be down.";
    const button = doc.createElement("button");
    button.type = "button";
    button.textContent = fr ? "Recharger la page" : "Reload the page";
    button.setAttribute("onclick", "location.reload()"); // the page's handler: this iframe may be gone by then
    box.append(text, button);
    doc.body.appendChild(box);
  };
  // A script without src was inlined by an older loader: it ran when it was added.
  const state = (s) => (s.src ? s.dataset.state : "loaded");
  const ready = () =>
    new Promise((resolve, reject) => {
      const fail = () => reject(new Error("Parlor could not load " + files.map((f) => f.url).join(", ")));
      if (doc.getElementById(FAILED_ID)) return fail();
      let waiting = false;
      for (let i = 0; i < files.length; i++) {
        let script = doc.getElementById(files[i].id);
        if (!script) {
          if (Date.now() < loads.retryAt) {
            waiting = true;
            break; // the files after it are added after it, in order
          }
          script = add(files[i]);
        }
        const s = state(script);
        if (s === "failed") {
          if (loads.attempt + 1 >= ATTEMPTS) {
            showFailure();
            return fail();
          }
          for (const later of files.slice(i)) {
            const el = doc.getElementById(later.id);
            if (el) el.remove();
          }
          loads.retryAt = Date.now() + RETRY_MS * 2 ** loads.attempt;
          loads.attempt++;
          waiting = true;
          break;
        }
        if (s !== "loaded") waiting = true;
      }
      if (!waiting) resolve(w.parlorBridge);
      else setTimeout(() => ready().then(resolve, reject), 20);
    });
  return ready().then((bridge) => {
    if (command && "probe" in command) return bridge.storedSeat(command.probe);
    if (!command || command.forget) {
      const seat = command ? command.forget : bridge.config;
      if (seat) bridge.forgetSeat(seat.room, seat.player);
      bridge.leave();
      return { status: "idle" };
    }
    return bridge.configure(command);
  });
}
