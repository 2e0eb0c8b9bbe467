// Kiosk and staff station: idle reset, keyboard-wedge scanner, keypad, camera.
// Plain JavaScript, no framework; the QR decoder is imported only when the camera opens.
(function () {
  "use strict";
  var body = document.body;
  var input = document.getElementById("code");

  // Focus the code input without scrolling to it: on a voucher's page the verdict above it
  // must stay in view. Once something has focus the browser skips autofocus and its scroll.
  if (input) input.focus({ preventScroll: true });

  // Back to the start screen after data-idle-seconds without a touch or key.
  var idle = parseFloat(body.getAttribute("data-idle-seconds") || "0");
  var home = body.getAttribute("data-home");
  if (idle > 0 && home) {
    var timer = 0;
    var reset = function () {
      if (body.getAttribute("data-screen") === "start" && location.search === "") {
        // Already home in the default language: forget what was typed, do not reload.
        if (input) input.value = "";
        arm();
        return;
      }
      location.replace(home);
    };
    var arm = function () {
      clearTimeout(timer);
      timer = setTimeout(reset, idle * 1000);
    };
    ["pointerdown", "keydown", "input", "touchstart", "scroll"].forEach(function (name) {
      document.addEventListener(name, arm, { passive: true, capture: true });
    });
    arm();
  }

  if (!input) return;
  var form = input.form;

  // Typed digits show in groups of four (1234 5678 9012 3456) with a count of 16 below.
  // A scanner's "PV1..." is left as it comes; the server reads any spacing.
  var counter = document.getElementById("digit-count");
  var group = function () {
    var value = input.value;
    var digits = value.replace(/\D/g, "");
    if (!/[^\d\s]/.test(value)) {
      var grouped = digits.replace(/(\d{4})(?=\d)/g, "$1 ");
      if (grouped !== value) {
        var caret = input.selectionStart === null ? value.length : input.selectionStart;
        var before = value.slice(0, caret).replace(/\D/g, "").length;
        input.value = grouped;
        var at = before + Math.floor(Math.max(before - 1, 0) / 4);
        if (document.activeElement === input) input.setSelectionRange(at, at);
      }
    }
    if (counter) {
      counter.textContent = counter.getAttribute("data-template").replace("{count}", String(digits.length));
      counter.classList.toggle("complete", digits.length === 16);
    }
  };
  input.addEventListener("input", group);
  group();

  // On-screen keypad.
  Array.prototype.forEach.call(document.querySelectorAll("[data-key]"), function (button) {
    button.addEventListener("click", function () {
      var key = button.getAttribute("data-key");
      if (key === "clear") input.value = "";
      else if (key === "back") input.value = input.value.replace(/\s+$/, "").slice(0, -1);
      else input.value += key;
      group();
      if (input.hasAttribute("data-keep-focus")) input.focus({ preventScroll: true });
    });
  });

  // A wedge scanner types into whatever has focus and ends with Enter, which submits
  // the form; keep the focus on the code input when people tap elsewhere.
  if (input.hasAttribute("data-keep-focus")) {
    document.addEventListener("click", function (event) {
      if (!event.target.closest("input,select,textarea,a,[data-key]")) input.focus({ preventScroll: true });
    });
  }

  // Camera: getUserMedia through nimiq's qr-scanner, scanning the full frame.
  var cameraButton = document.getElementById("camera");
  var video = document.getElementById("video");
  var status = document.getElementById("camera-status");
  if (!cameraButton || !video) return;
  var scanner = null;
  var stop = function () {
    if (scanner) {
      scanner.stop();
      scanner.destroy();
      scanner = null;
    }
    video.hidden = true;
    cameraButton.textContent = cameraButton.getAttribute("data-start");
  };
  var fullFrame = function (v) {
    var scale = Math.min(1, 800 / Math.max(v.videoWidth, v.videoHeight));
    return {
      x: 0,
      y: 0,
      width: v.videoWidth,
      height: v.videoHeight,
      downScaledWidth: Math.round(v.videoWidth * scale),
      downScaledHeight: Math.round(v.videoHeight * scale),
    };
  };
  cameraButton.addEventListener("click", function () {
    if (scanner) {
      stop();
      return;
    }
    status.textContent = "";
    import(cameraButton.getAttribute("data-src"))
      .then(function (module) {
        var QrScanner = module.default;
        scanner = new QrScanner(
          video,
          function (result) {
            stop();
            input.value = result.data;
            if (form.requestSubmit) form.requestSubmit();
            else form.submit();
          },
          { returnDetailedScanResult: true, calculateScanRegion: fullFrame, maxScansPerSecond: 10 }
        );
        video.hidden = false;
        cameraButton.textContent = cameraButton.getAttribute("data-stop");
        status.textContent = cameraButton.getAttribute("data-hint") || "";
        return scanner.start();
      })
      .catch(function () {
        stop();
        status.textContent = cameraButton.getAttribute("data-error");
      });
  });
})();
