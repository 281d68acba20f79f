// The navigation's menus. Without this script every menu still opens and closes (they are
// <details>); it adds: the phone menu starts closed below 700 px and is always open above it,
// one group open at a time, Escape and a click elsewhere close an open group.
(function () {
  var menu = document.getElementById("menu");
  if (!menu) { return; }
  var narrow = window.matchMedia ? window.matchMedia("(max-width: 699px)") : null;
  var fit = function () {
    if (!narrow) { return; }
    if (narrow.matches) { menu.removeAttribute("open"); } else { menu.setAttribute("open", ""); }
  };
  fit();
  if (narrow) {
    if (narrow.addEventListener) { narrow.addEventListener("change", fit); } else if (narrow.addListener) { narrow.addListener(fit); }
  }
  var groups = menu.querySelectorAll("details.group");
  var closeAll = function (except) {
    for (var i = 0; i < groups.length; i++) {
      if (groups[i] !== except) { groups[i].removeAttribute("open"); }
    }
  };
  for (var i = 0; i < groups.length; i++) {
    groups[i].addEventListener("toggle", function (e) {
      var g = e.target;
      if (g.open && !(narrow && narrow.matches)) { closeAll(g); }
    });
  }
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") { return; }
    var open = menu.querySelector("details.group[open]");
    if (open) {
      open.removeAttribute("open");
      var s = open.querySelector("summary");
      if (s) { s.focus(); }
    }
  });
  document.addEventListener("click", function (e) {
    if (narrow && narrow.matches) { return; }
    if (!e.target.closest || !e.target.closest("details.group")) { closeAll(null); }
  });
})();
