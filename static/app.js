// Small enhancements; every page works without this file.
document.addEventListener("submit", function (ev) {
  var f = ev.target;
  var msg = f.getAttribute && f.getAttribute("data-confirm");
  if (msg && !window.confirm(msg)) { ev.preventDefault(); }
});

// Upload with progress: a form marked data-progress="ID" is sent with XMLHttpRequest so the
// <progress id=ID> shows how much has gone; the answer replaces the page as a normal post would.
document.addEventListener("submit", function (ev) {
  var f = ev.target;
  var pid = f.getAttribute && f.getAttribute("data-progress");
  if (!pid || ev.defaultPrevented || !window.XMLHttpRequest || !window.FormData) { return; }
  var bar = document.getElementById(pid);
  if (!bar) { return; }
  ev.preventDefault();
  var xhr = new XMLHttpRequest();
  xhr.open("POST", f.action);
  bar.hidden = false;
  xhr.upload.onprogress = function (e) { if (e.lengthComputable) { bar.value = Math.round(e.loaded * 100 / e.total); } };
  xhr.onload = function () { document.open(); document.write(xhr.responseText); document.close(); };
  xhr.onerror = function () { f.submit(); };
  xhr.send(new FormData(f));
});

// The opportunity board: dragging a card onto another column picks that stage in the card's
// own move form and submits it, so a drag follows exactly the rules of the form (and works
// without this script through the form itself).
(function () {
  var dragged = null;
  document.addEventListener("dragstart", function (ev) {
    var card = ev.target.closest && ev.target.closest(".opp-card");
    if (card) { dragged = card; ev.dataTransfer.setData("text/plain", card.getAttribute("data-id")); }
  });
  document.addEventListener("dragover", function (ev) {
    var col = dragged && ev.target.closest && ev.target.closest(".board .column");
    if (col) { ev.preventDefault(); col.classList.add("drop"); }
  });
  document.addEventListener("dragleave", function (ev) {
    var col = ev.target.closest && ev.target.closest(".board .column");
    if (col) { col.classList.remove("drop"); }
  });
  document.addEventListener("drop", function (ev) {
    var col = dragged && ev.target.closest && ev.target.closest(".board .column");
    if (!col) { return; }
    ev.preventDefault();
    col.classList.remove("drop");
    var form = dragged.querySelector("form.move");
    var sel = form && form.querySelector("select[name=stage]");
    var stage = col.getAttribute("data-stage");
    dragged = null;
    if (sel && stage && sel.value !== stage) { sel.value = stage; form.submit(); }
  });
})();
