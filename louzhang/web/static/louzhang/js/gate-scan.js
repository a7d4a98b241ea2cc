// Scanning a household pass (出入证) on the gate page. The phone's camera is read live where the
// browser allows it (HTTPS, or the server itself); on a plain-HTTP intranet the phone's camera
// app takes one photo instead. Either way the QR code is decoded here, by jsQR (vendored): no
// picture leaves the phone. The code lands in the pass field and the cursor in the temperature
// field, so the next tap is the temperature.
(function () {
  "use strict";
  const form = document.querySelector("[data-gate-form]");
  if (!form || typeof jsQR !== "function") return;
  const field = form.querySelector("#pass_code");
  const temperature = form.querySelector("#temperature");
  const button = form.querySelector("[data-scan]");
  const photo = form.querySelector("[data-scan-photo]");
  const panel = form.querySelector("[data-scan-panel]");
  const video = panel.querySelector("video");
  const status = form.querySelector("[data-scan-status]");
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  let stream = null;

  function decode(source, width, height, inversion) {
    canvas.width = width;
    canvas.height = height;
    context.drawImage(source, 0, 0, width, height);
    const pixels = context.getImageData(0, 0, width, height);
    const found = jsQR(pixels.data, width, height, { inversionAttempts: inversion });
    return found && found.data.trim() ? found.data : null;
  }

  function accept(code) {
    field.value = code.replace(/\s+/g, "").toUpperCase();
    status.textContent = "";
    stop();
    temperature.focus();
  }

  function stop() {
    if (stream) {
      stream.getTracks().forEach((track) => track.stop());
      stream = null;
    }
    video.srcObject = null;
    panel.hidden = true;
    button.setAttribute("aria-pressed", "false");
  }

  async function live() {
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: "environment" }, audio: false,
      });
    } catch (error) {
      photo.click(); // no camera, or permission refused: the camera app instead
      return;
    }
    video.srcObject = stream;
    panel.hidden = false;
    button.setAttribute("aria-pressed", "true");
    await video.play();
    const tick = () => {
      if (!stream) return;
      if (video.readyState >= 2 && video.videoWidth) {
        const scale = Math.min(1, 640 / video.videoWidth); // small frames: fast on old phones
        const code = decode(video, Math.round(video.videoWidth * scale),
          Math.round(video.videoHeight * scale), "dontInvert");
        if (code) {
          accept(code);
          return;
        }
      }
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }

  button.hidden = false;
  button.addEventListener("click", () => {
    if (stream) {
      stop();
    } else if (window.isSecureContext && navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
      live();
    } else {
      photo.click();
    }
  });

  photo.addEventListener("change", () => {
    const file = photo.files && photo.files[0];
    if (!file) return;
    const image = new Image();
    image.onload = () => {
      const scale = Math.min(1, 1280 / Math.max(image.naturalWidth, image.naturalHeight));
      const code = decode(image, Math.round(image.naturalWidth * scale),
        Math.round(image.naturalHeight * scale), "attemptBoth");
      URL.revokeObjectURL(image.src);
      photo.value = "";
      if (code) accept(code);
      else status.textContent = status.dataset.notFound;
    };
    image.onerror = () => {
      URL.revokeObjectURL(image.src);
      status.textContent = status.dataset.notFound;
    };
    image.src = URL.createObjectURL(file);
  });
})();
