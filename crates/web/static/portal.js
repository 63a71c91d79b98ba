// touchtone portal: small progressive enhancements. Every page works
// without this file; it only shows, as a person types an answer, the
// digits they will key on the phone (ITU-T E.161, accents folded, as the
// server maps them), and shows the "own question" field only when that
// option is chosen.
(function () {
  "use strict";
  var KEYS = {a:2,b:2,c:2,d:3,e:3,f:3,g:4,h:4,i:4,j:5,k:5,l:5,m:6,n:6,o:6,
              p:7,q:7,r:7,s:7,t:8,u:8,v:8,w:9,x:9,y:9,z:9};
  function keypad(text) {
    var folded = text.normalize("NFD").replace(/[\u0300-\u036f]/g, "")
      .replace(/ß/g, "ss").toLowerCase();
    var out = [];
    for (var i = 0; i < folded.length; i++) {
      var c = folded[i];
      if (c >= "0" && c <= "9") { out.push(c); }
      else if (KEYS[c]) { out.push(String(KEYS[c])); }
    }
    return out.join(" ");
  }
  function showKeypad(input) {
    var target = document.getElementById(input.getAttribute("data-keypad"));
    if (!target) { return; }
    var digits = keypad(input.value);
    target.textContent = digits ? target.getAttribute("data-label") + " " + digits : "";
  }
  function showOwn(select) {
    var own = document.getElementById("own" + select.id.slice(1));
    if (own && own.parentNode) {
      own.parentNode.hidden = select.value !== "own";
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    var inputs = document.querySelectorAll("input[data-keypad]");
    for (var i = 0; i < inputs.length; i++) {
      inputs[i].addEventListener("input", function (e) { showKeypad(e.target); });
    }
    var selects = document.querySelectorAll("fieldset.slot select");
    for (var j = 0; j < selects.length; j++) {
      showOwn(selects[j]);
      selects[j].addEventListener("change", function (e) { showOwn(e.target); });
    }
  });
})();
