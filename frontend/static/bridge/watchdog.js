// The frontend watchdog: Streamlit's own connection. Streamlit's client reconnects after its server restarts,
// but to a new session with empty session_state, and it asks for no script run when the last run was not a
// fragment's: the page would stay frozen on its old view, its hand-overs to Python lost. The watchdog follows
// the client's connection state (its `data-test-connection-state`, a plain DOM attribute, through a
// MutationObserver: nothing runs while nothing changes) and, as a backstop, Python failing to come back for
// `next()` (one timer, armed only between a hand-over and Python's return, and only counted while the tab is
// visible); then it shows that it is reconnecting, probes the server's health, and reloads the page once the
// server answers. The reload starts a fresh session and seat restore puts the player back.
globalThis.parlorPart(function () {
  "use strict";

  const PROBE_MS = 1000;
  const PROBE_TIMEOUT_MS = 5000; // a probe the network swallowed is abandoned and tried again
  const RELOAD_JITTER_MS = 1000; // a restarted frontend must not take every page's reload in the same instant
  // Python comes back for `next()` within a rerun of a hand-over; this late (longer than a heartbeat, so a
  // saturated but working process is not mistaken for a lost one), its session is gone.
  const PYTHON_OVERDUE_MS = 30000;

  class FrontendWatch {
    // win: the Streamlit page's window; beforeReload: flush what must survive the reload
    constructor(win, beforeReload) {
      this.win = win;
      this.beforeReload = beforeReload;
      this.lost = false;
      this.reloading = false;
      this.probeTimer = null;
      this.overdueTimer = null;
      const doc = win.document;
      const seen = (el) => {
        const state = el.getAttribute("data-test-connection-state");
        if (state && state !== "CONNECTED") this.down("disconnected");
        else if (state === "CONNECTED" && this.lost) this.back();
      };
      this.observer = new win.MutationObserver((records) => {
        for (const r of records) if (r.target.nodeType === 1) seen(r.target);
      });
      this.observer.observe(doc.body || doc.documentElement, {
        subtree: true,
        attributes: true,
        attributeFilter: ["data-test-connection-state"],
      });
      for (const el of doc.querySelectorAll("[data-test-connection-state]")) seen(el);
    }

    // Python has a batch and should come back for the next one.
    handedOver() {
      clearTimeout(this.overdueTimer);
      this.overdueTimer = setTimeout(() => this.overdue(), PYTHON_OVERDUE_MS);
    }

    pythonBack() {
      clearTimeout(this.overdueTimer);
      this.overdueTimer = null;
    }

    // A hidden tab's iframes may wait for it to be shown before they run; only a visible page is overdue.
    overdue() {
      const doc = this.win.document;
      if (doc.visibilityState === "visible") {
        this.down("overdue");
        return;
      }
      const shown = () => {
        if (doc.visibilityState !== "visible") return;
        doc.removeEventListener("visibilitychange", shown);
        this.handedOver(); // a full wait from being shown again
      };
      doc.addEventListener("visibilitychange", shown);
    }

    down(why) {
      if (this.lost) return;
      this.lost = true;
      this.why = why;
      this.banner(true);
      this.probe();
    }

    async probe() {
      clearTimeout(this.probeTimer);
      let ok = false;
      try {
        const url = new URL("_stcore/health", this.win.location.href.split("?")[0].replace(/[^/]*$/, ""));
        const signal = AbortSignal.timeout(PROBE_TIMEOUT_MS);
        ok = (await fetch(url, { cache: "no-store", credentials: "same-origin", signal })).ok;
      } catch (e) {}
      if (ok) this.back();
      else this.probeTimer = setTimeout(() => this.probe(), PROBE_MS);
    }

    back() {
      if (!this.lost || this.reloading) return;
      this.reloading = true;
      clearTimeout(this.probeTimer);
      this.beforeReload();
      setTimeout(() => this.win.location.reload(), Math.random() * RELOAD_JITTER_MS);
    }

    banner(on) {
      const doc = this.win.document;
      let el = doc.getElementById("parlor-reconnecting");
      if (!on) {
        if (el) el.remove();
        return;
      }
      if (el) return;
      el = doc.createElement("div");
      el.id = "parlor-reconnecting";
      el.setAttribute("role", "status");
      el.textContent = "Reconnecting to Parlor… your seat is kept.";
      // Inline, not style.css: Streamlit may be mid-way through replacing the page's elements.
      el.style.cssText =
        "position:fixed;top:0;left:0;right:0;z-index:1000000;padding:.6rem 1rem;text-align:center;" +
        "font:600 1rem system-ui,sans-serif;background:#b45309;color:#fff;box-shadow:0 2px 8px rgba(0,0,0,.25)";
      (doc.body || doc.documentElement).appendChild(el);
    }
  }

  return { FrontendWatch };
});
