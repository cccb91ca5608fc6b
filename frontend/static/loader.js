// Installs Parlor's browser files into the Streamlit page (not the component iframe that evaluates this), once,
// then runs one command on the bridge. Evaluated by streamlit_js_eval as `(loader)(window.parent, files,
// command)`; returns what the bridge answers, for Python:
//   a seat config      point the bridge at this player's seat (and remember it in the tab)
//   {probe: room}      the tab's stored seat and, for the room link's code, a "Continue as" offer
//   {forget: {room, player}} or null   stop the bridge and forget that seat in both storages
function (w, files, command) {
  for (const [name, source] of Object.entries(files)) {
    const id = "parlor-" + name.replace(/\W/g, "-");
    if (w.document.getElementById(id)) continue;
    const script = w.document.createElement("script");
    script.id = id;
    script.textContent = source + "\n//# sourceURL=parlor/" + name;
    w.document.head.appendChild(script);
  }
  const bridge = w.parlorBridge;
  if (command && "probe" in command) return bridge.storedSeat(command.probe);
  if (!command || command.forget) {
    const seat = command ? command.forget : bridge.config;
    if (seat) bridge.forgetSeat(seat.room, seat.player);
    bridge.leave();
    return { status: "idle" };
  }
  return bridge.configure(command);
}
