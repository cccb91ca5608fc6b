// Installs Parlor's browser files into the Streamlit page (not the component iframe that evaluates this), once,
// then runs one command on the bridge. Evaluated by streamlit_js_eval as `(loader)(window.parent, urls,
// command)`; resolves to what the bridge answers, for Python:
//   a seat config      point the bridge at this player's seat (and remember it in the tab)
//   {probe: room}      the tab's stored seat and, for the room link's code, a "Continue as" offer
//   {forget: {room, player}} or null   stop the bridge and forget that seat in both storages
// The files are static URLs (Streamlit's static serving, `?v=` the file's hash) that the browser caches, so a
// rerun sends only this loader. They run in the order given (async = false). A script element is added once per
// page, as before: each file decides itself whether an older copy already installed in the page stays.
function (w, urls, command) {
  const doc = w.document;
  const scripts = Object.entries(urls).map(([name, url]) => {
    const id = "parlor-" + name.replace(/\W/g, "-");
    let script = doc.getElementById(id);
    if (!script) {
      script = doc.createElement("script");
      script.id = id;
      script.async = false;
      // Handlers compiled in the page, not in this iframe: another iframe may be the one that waits.
      script.setAttribute("onload", "this.dataset.state = 'loaded'");
      script.setAttribute("onerror", "this.dataset.state = 'failed'");
      script.src = url;
      doc.head.appendChild(script);
    }
    return script;
  });
  // A script without src was inlined by an older loader: it ran when it was added.
  const state = (s) => (s.src ? s.dataset.state : "loaded");
  const ready = () =>
    new Promise((resolve, reject) => {
      const failed = scripts.filter((s) => state(s) === "failed");
      if (failed.length) {
        failed.forEach((s) => s.remove()); // the next install tries again
        reject(new Error("Parlor could not load " + failed.map((s) => s.src).join(", ")));
      } else if (scripts.every((s) => state(s) === "loaded")) {
        resolve(w.parlorBridge);
      } else {
        setTimeout(() => ready().then(resolve, reject), 20);
      }
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
