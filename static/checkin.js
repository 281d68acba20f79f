// Visit check-in (签到): the button asks the browser for its location and fills the form's
// hidden fields (latitude, longitude, accuracy in metres, the time of the fix). Browsers give
// the location only to a secure context (HTTPS, or localhost): elsewhere the block says why
// check-in is off. Without a location the visit is still saved, not checked in.
(function () {
  "use strict";
  var box = document.getElementById("check-in");
  if (!box) return;
  var button = document.getElementById("check-in-button");
  var status = document.getElementById("check-in-status");
  var off = document.getElementById("check-in-off");
  var text = function (k) { return box.getAttribute("data-" + k) || ""; };
  var field = function (n) { return box.querySelector('input[name="check_in.' + n + '"]'); };
  var say = function (t) { status.textContent = t; };
  if (!window.isSecureContext || !("geolocation" in navigator)) {
    if (off) {
      off.textContent = window.isSecureContext ? text("unsupported") : text("insecure");
      off.hidden = false;
    }
    if (button) { button.disabled = true; button.hidden = false; }
    return;
  }
  if (!button) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    button.disabled = true;
    say(text("locating"));
    navigator.geolocation.getCurrentPosition(function (pos) {
      var c = pos.coords;
      field("latitude").value = c.latitude.toFixed(6);
      field("longitude").value = c.longitude.toFixed(6);
      field("accuracy_m").value = c.accuracy >= 0 ? String(Math.ceil(c.accuracy)) : "";
      var at = new Date(pos.timestamp || Date.now());
      field("at").value = isNaN(at.getTime()) ? new Date().toISOString() : at.toISOString();
      say(text("located")
        .replace("{lat}", c.latitude.toFixed(6))
        .replace("{lon}", c.longitude.toFixed(6))
        .replace("{acc}", String(Math.ceil(c.accuracy || 0))));
      box.classList.add("located");
      button.disabled = false;
    }, function (err) {
      say(err && err.code === 1 ? text("denied") : text("failed"));
      button.disabled = false;
    }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
  });
})();
