// Phone simulator: sign each text on the server, post it to the real Twilio webhook.
(function () {
  const thread = document.getElementById("thread");
  const from = document.getElementById("from");
  const body = document.getElementById("body");
  const error = document.getElementById("error");

  function sid() {
    const hex = Array.from(crypto.getRandomValues(new Uint8Array(16)),
      (b) => b.toString(16).padStart(2, "0")).join("");
    return "SM" + hex;
  }

  async function send(text) {
    const params = {MessageSid: sid(), SmsSid: "", AccountSid: SIM.account, From: from.value.trim(),
      To: SIM.to, Body: text, NumMedia: "0", NumSegments: "1"};
    params.SmsSid = params.MessageSid;
    const signed = await fetch("/simulator/sign", {method: "POST",
      headers: {"Content-Type": "application/json"}, body: JSON.stringify({path: "/twilio/sms", params})});
    const {signature} = await signed.json();
    const resp = await fetch("/twilio/sms", {method: "POST", headers: {"X-Twilio-Signature": signature},
      body: new URLSearchParams(params)});
    if (!resp.ok) {
      const detail = await resp.json().catch(() => ({}));
      throw new Error(detail.message || ("HTTP " + resp.status));
    }
  }

  async function refresh() {
    if (!from.value.trim()) return;
    const resp = await fetch("/simulator/thread?phone=" + encodeURIComponent(from.value.trim()));
    if (!resp.ok) return;
    const {messages} = await resp.json();
    const atBottom = thread.scrollTop + thread.clientHeight >= thread.scrollHeight - 8;
    thread.replaceChildren(...messages.map((m) => {
      const li = document.createElement("li");
      li.className = m.direction;
      li.dataset.id = m.id;
      li.textContent = m.body;
      const status = document.createElement("span");
      status.className = "status";
      status.textContent = m.direction === "outbound" ? m.status : "";
      li.appendChild(status);
      return li;
    }));
    if (atBottom) thread.scrollTop = thread.scrollHeight;
  }

  document.getElementById("compose").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const text = body.value.trim();
    if (!text) return;
    error.textContent = "";
    try {
      await send(text);
      body.value = "";
      await refresh();
    } catch (e) {
      error.textContent = "Not sent: " + e.message;
    }
  });
  from.addEventListener("change", refresh);
  refresh();
  setInterval(refresh, 1000);
})();
