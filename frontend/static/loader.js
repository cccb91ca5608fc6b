// Installs Parlor's browser files into the Streamlit page (not the component iframe that evaluates this), once,
// then points the bridge at this player's seat. Evaluated by streamlit_js_eval as `(loader)(window.parent,
// files, config)`; returns the bridge state for Python.
function (w, files, config) {
  for (const [name, source] of Object.entries(files)) {
    const id = "parlor-" + name.replace(/\W/g, "-");
    if (w.document.getElementById(id)) continue;
    const script = w.document.createElement("script");
    script.id = id;
    script.textContent = source + "\n//# sourceURL=parlor/" + name;
    w.document.head.appendChild(script);
  }
  if (!config) {
    w.parlorBridge.leave();
    return { status: "idle" };
  }
  return w.parlorBridge.configure(config);
}
