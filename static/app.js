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
