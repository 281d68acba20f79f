// The quote form: a product typed by code fills its unit and list price; the unit price and the
// discount follow each other; each line's amount and the total are shown as the user types.
// The server prices every line again by the same rules; the form works without this script.
(function () {
  "use strict";
  // The quote form and the order form share their lines editor.
  var form = document.getElementById("quote-form") || document.getElementById("order-form");
  if (!form) return;
  var list = document.getElementById("product-list");
  function fen(s) {
    s = (s || "").replace(/[,，\s¥￥元]/g, "");
    var scale = 1n;
    if (/万$/.test(s)) { scale = 10000n; s = s.slice(0, -1); }
    else if (/亿$/.test(s)) { scale = 100000000n; s = s.slice(0, -1); }
    if (!/^\d+(\.\d+)?$/.test(s)) return null;
    var parts = s.split(".");
    var frac = parts[1] || "";
    // Exact from the decimal digits (no float arithmetic on money), rounded to the fen.
    var n = BigInt(parts[0] + frac) * 100n * scale;
    var den = 10n ** BigInt(frac.length);
    return (n * 2n + den) / (2n * den);
  }
  function show(f) {
    if (f === null) return "";
    var neg = f < 0n; if (neg) f = -f;
    var s = f.toString().padStart(3, "0");
    var int = s.slice(0, -2).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return (neg ? "-" : "") + int + "." + s.slice(-2);
  }
  function milli(q) {
    q = (q || "").replace(/[,，\s]/g, "");
    if (!/^\d+(\.\d{1,3})?$/.test(q)) return null;
    var p = q.split(".");
    return BigInt(p[0]) * 1000n + BigInt((p[1] || "").padEnd(3, "0"));
  }
  function roundDiv(a, b) { return (a * 2n + b) / (2n * b); }
  function product(code) {
    if (!list || !code) return null;
    code = code.split(/\s+/)[0];
    for (var i = 0; i < list.options.length; i++) {
      var o = list.options[i];
      if (o.value.split(/\s+/)[0] === code) return o;
    }
    return null;
  }
  function row(tr) {
    var get = function (n) { return tr.querySelector('[name="' + n + '"]'); };
    return { tr: tr, product: get("l_product"), unit: get("l_unit"), qty: get("l_qty"), list: get("l_list"), price: get("l_price"), discount: get("l_discount"), amount: tr.querySelector(".line-amount") };
  }
  function listPrice(r) {
    var p = product(r.product.value);
    if (p) return fen(p.getAttribute("data-list"));
    return fen(r.list.value);
  }
  function recompute(r, typed) {
    var list = listPrice(r);
    if (typed === "discount" && list !== null && r.discount.value.trim() !== "") {
      var d = r.discount.value.trim().replace("%", "");
      if (/^\d{1,3}(\.\d{1,2})?$/.test(d)) {
        var bp = BigInt(Math.round(parseFloat(d) * 100));
        r.price.value = show(roundDiv(list * (10000n - bp), 10000n)).replace(/,/g, "");
      }
    } else if (typed === "price" && list !== null && list > 0n) {
      var pr = fen(r.price.value);
      if (pr !== null) {
        var off = list - pr;
        r.discount.value = off <= 0n ? "0" : show((off * 10000n + list - 1n) / list).replace(/,/g, "");
      }
    }
    var q = milli(r.qty.value), price = fen(r.price.value);
    if (price === null && r.discount.value.trim() === "" && list !== null) price = list;
    r.amount.textContent = q !== null && price !== null ? show(roundDiv(q * price, 1000n)) : "";
    total();
  }
  function total() {
    var sum = 0n, any = false;
    form.querySelectorAll(".line-amount").forEach(function (c) {
      var v = fen(c.textContent);
      if (v !== null) { sum += v; any = true; }
    });
    var t = document.getElementById("form-total");
    if (t) t.textContent = any ? "¥" + show(sum) : "";
  }
  function wire(tr) {
    var r = row(tr);
    r.product.addEventListener("change", function () {
      var p = product(r.product.value);
      if (p) {
        if (!r.unit.value) r.unit.value = p.getAttribute("data-unit");
        r.list.value = "";
        r.list.placeholder = p.getAttribute("data-list");
      }
      recompute(r, r.discount.value ? "discount" : "price");
    });
    r.qty.addEventListener("input", function () { recompute(r, ""); });
    r.list.addEventListener("input", function () { recompute(r, r.discount.value ? "discount" : "price"); });
    r.price.addEventListener("input", function () { recompute(r, "price"); });
    r.discount.addEventListener("input", function () { recompute(r, "discount"); });
    recompute(r, "");
  }
  var body = document.querySelector("#line-rows tbody");
  body.querySelectorAll("tr.line-row").forEach(wire);
  var add = document.getElementById("add-line");
  if (add) {
    add.hidden = false;
    add.addEventListener("click", function () {
      var last = body.querySelector("tr.line-row:last-child");
      var copy = last.cloneNode(true);
      copy.classList.remove("invalid");
      copy.querySelectorAll("input").forEach(function (i) { i.value = ""; });
      copy.querySelector(".n").textContent = body.querySelectorAll("tr.line-row").length + 1;
      copy.querySelector(".line-amount").textContent = "";
      body.appendChild(copy);
      wire(copy);
      copy.querySelector("input").focus();
    });
  }
})();
