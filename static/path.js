// The opportunity path: ticking an exit criterion in place. Each criterion is a small form
// posting to /opportunities/{id}/check (which works without this file); here it is sent to the
// JSON API instead and the page updated where it stands. Any failure falls back to the form.
(function () {
  document.addEventListener("submit", function (ev) {
    var f = ev.target;
    if (!f.classList || !f.classList.contains("tick-form") || !window.fetch) { return; }
    ev.preventDefault();
    var val = function (n) { var i = f.querySelector("input[name=" + n + "]"); return i ? i.value : ""; };
    var body = { item: val("item"), checked: val("checked") === "1", version: parseInt(val("version"), 10) };
    fetch("/api/v1/opportunities/" + f.getAttribute("data-id") + "/checklist", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": val("_csrf") },
      body: JSON.stringify(body)
    }).then(function (r) {
      if (!r.ok) { throw new Error("refused"); }
      return r.json();
    }).then(function (o) {
      var on = body.checked;
      var b = f.querySelector("button.tick");
      if (b) { b.setAttribute("aria-checked", on ? "true" : "false"); }
      var li = f.closest("li");
      if (li) { li.classList.toggle("done", on); }
      f.querySelector("input[name=checked]").value = on ? "0" : "1";
      var who = f.querySelector(".who");
      if (who && !on) { who.parentNode.removeChild(who); }
      // Every form on the page now carries the new version.
      document.querySelectorAll("input[name=version]").forEach(function (i) { i.value = String(o.version); });
    }).catch(function () { f.submit(); });
  });
})();
