// Injected into every player's page by loadtest/browser_load.py: records the epoch time (ms) at which each clue
// text first appears in the feed (`<p><b>name</b>text</p>` rows in `.parlor-feed`), and the most rows any one
// text ever had at once (2 or more is a doubled clue). A MutationObserver fires in the same task as the DOM
// change, so the time is when the text is in the page, as loadtest/latency_probe.js measures it for one clue.
// Installed as an init script, so it survives the page reloading itself (the frontend watchdog does when it
// loses its Streamlit session); `boots` (kept in the tab's sessionStorage) counts how often it started, so the
// harness reports reloads. After a reload, clues already in the feed count as seen when the new page shows them.
(function (w) {
  const now = () => performance.timeOrigin + performance.now();
  const BOOTS = "parlorLoadBoots";
  const boots = Number(w.sessionStorage.getItem(BOOTS) || 0) + 1;
  w.sessionStorage.setItem(BOOTS, String(boots));
  const probe = { seen: {}, most: {}, boots };
  const scan = () => {
    const counts = {};
    for (const row of w.document.querySelectorAll(".parlor-feed > p")) {
      const text = row.lastChild ? row.lastChild.textContent : "";
      counts[text] = (counts[text] || 0) + 1;
    }
    const at = now();
    for (const text in counts) {
      if (!(text in probe.seen)) probe.seen[text] = at;
      if (!(counts[text] <= probe.most[text])) probe.most[text] = counts[text];
    }
  };
  const start = () => {
    new MutationObserver(scan).observe(w.document.body, { childList: true, subtree: true, characterData: true });
    scan();
  };
  if (w.document.body) start();
  else w.addEventListener("DOMContentLoaded", start, { once: true });
  // {seen: {text: epoch ms}, most: {text: rows}} for the texts starting with `prefix`
  probe.report = (prefix) => {
    const pick = (obj) => Object.fromEntries(Object.entries(obj).filter(([text]) => text.startsWith(prefix)));
    return { seen: pick(probe.seen), most: pick(probe.most), boots: probe.boots };
  };
  w.parlorLoad = probe;
})(window);
