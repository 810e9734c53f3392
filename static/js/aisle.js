/*
 * Aisle's one script: how every page meets the network.
 *
 * - Errors in one place. A 4xx answer to an htmx request is the form's message: its
 *   fragment goes into the request's target and the page stays as it was (with DEBUG
 *   on too: django-htmx's debug handler never sees it). A whole page answered instead
 *   (403, 404, the login page) is not swapped in: its message is shown in the banner.
 *   A 5xx shows the banner with "Retry".
 * - Every action applied once. Every htmx POST carries a new action id in the
 *   `X-Aisle-Action` header, and every plain POST form an `action_id` field made when
 *   the page was drawn (a double tap sends the same id twice); the server applies an id
 *   once (retail/once.py).
 * - Queued when the network drops. A request of a form marked `data-queue="label"`
 *   that gets no answer (network error, time-out) is kept in this browser's storage,
 *   under the signed-in user and the store, and shown as "n actions waiting to send";
 *   while any wait, the next ones join the queue, so they keep their order. When the
 *   network is back they are sent one by one with their ids; one the server refuses
 *   is listed with its reason until the associate acknowledges it. A session that
 *   ended stops the sending until the same user signs in again. Signing out deletes
 *   the queue (after asking, when it is not empty).
 * - What must never queue (hand-over, refunds, returns: forms marked
 *   `data-needs-network`) says plainly that it needs the network, and offers to retry.
 * - Polls that bring nothing new (the server's 304, the browser's kept copy) leave the
 *   page as it is: nothing is swapped.
 * - Small behaviours that used to be inline handlers: `data-confirm` on a form asks
 *   first, `data-print` prints, `data-scan` forms empty and refocus their field after
 *   each scan, `data-clears="#id"` on a form empties that element when a field changes.
 */
(function () {
  "use strict";

  const HEADER = "X-Aisle-Action";
  const meta = (name) => {
    const tag = document.querySelector(`meta[name="${name}"]`);
    return tag ? tag.content : "";
  };
  let words = {};

  function say(key, values) {
    let text = words[key] || key;
    for (const [name, value] of Object.entries(values || {})) {
      text = text.split(`{${name}}`).join(String(value));
    }
    return text;
  }

  function newId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    // Pages served over plain http on a store's network have no randomUUID.
    const bytes = window.crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  // --- The queue: localStorage, one list per user and store ----------------------------

  const user = meta("aisle-user");
  const store = meta("aisle-store") || "-";
  const queueKey = user ? `aisle:queue:${user}:${store}` : "";
  const refusedKey = user ? `aisle:refused:${user}:${store}` : "";

  function load(key) {
    if (!key) return [];
    try {
      return JSON.parse(window.localStorage.getItem(key) || "[]");
    } catch (error) {
      return [];
    }
  }

  function save(key, items) {
    if (!key) return;
    if (items.length) window.localStorage.setItem(key, JSON.stringify(items));
    else window.localStorage.removeItem(key);
  }

  function clearMine() {
    if (!user) return;
    for (let i = window.localStorage.length - 1; i >= 0; i -= 1) {
      const key = window.localStorage.key(i);
      if (key && (key.startsWith(`aisle:queue:${user}:`) || key.startsWith(`aisle:refused:${user}:`))) {
        window.localStorage.removeItem(key);
      }
    }
  }

  // --- The banner --------------------------------------------------------------------------

  const state = { problem: "", retry: null, signIn: false, flushing: false, note: "" };

  function banner() {
    const box = document.getElementById("aisle-net");
    if (!box) return;
    const queue = load(queueKey).filter((item) => item.held || !navigator.onLine);
    const refused = load(refusedKey);
    const status = document.getElementById("aisle-net-status");
    const lines = [];
    if (state.problem) lines.push(state.problem);
    else if (!navigator.onLine) lines.push(say("offline"));
    if (state.signIn) lines.push(say("sign_in"));
    if (queue.length) {
      lines.push(queue.length === 1 ? say("waiting_one") : say("waiting_many", { n: queue.length }));
    } else if (state.note) {
      lines.push(state.note);
    }
    status.textContent = lines.join(" ");
    const list = document.getElementById("aisle-net-queue");
    list.replaceChildren(
      ...queue.map((item) => {
        const li = document.createElement("li");
        li.textContent = `${item.label} · ${say("queued_label", { time: item.time })}`;
        li.dataset.action = item.id;
        return li;
      }),
    );
    const refusedList = document.getElementById("aisle-net-refused");
    refusedList.replaceChildren(
      ...refused.map((item) => {
        const li = document.createElement("li");
        li.className = "message message-error";
        li.dataset.action = item.id;
        const text = document.createElement("span");
        text.textContent = `${say("refused", { what: item.label })} — ${item.reason}`;
        const ok = document.createElement("button");
        ok.type = "button";
        ok.className = "btn btn-quiet";
        ok.dataset.acknowledge = item.id;
        ok.textContent = say("acknowledge");
        li.append(text, " ", ok);
        return li;
      }),
    );
    document.getElementById("aisle-net-retry").hidden = !state.retry;
    document.getElementById("aisle-net-sign-in").hidden = !state.signIn;
    box.hidden = !(lines.length || refused.length);
    box.classList.toggle("net-offline", !navigator.onLine || Boolean(state.problem));
  }

  function quiet() {
    if (state.flushing) return;
    state.note = "";
    banner();
  }

  function problem(text, retry) {
    state.problem = text;
    state.retry = retry || null;
    banner();
  }

  function clearProblem() {
    state.problem = "";
    state.retry = null;
    banner();
  }

  // --- What a refusal says -----------------------------------------------------------------

  function reasonOf(text, contentType) {
    if ((contentType || "").includes("json")) {
      try {
        const data = JSON.parse(text);
        return data.detail || data.error || say("unknown_refusal");
      } catch (error) {
        return say("unknown_refusal");
      }
    }
    const doc = new DOMParser().parseFromString(text || "", "text/html");
    const found = doc.querySelector("[role=alert], .message-error, .error, main h1, h1");
    // Text only, never markup: the message element, else the page's own words.
    const source = found || doc.body;
    const reason = source ? source.textContent.trim().replace(/\s+/g, " ") : "";
    return reason.slice(0, 300) || say("unknown_refusal");
  }

  function isWholePage(text) {
    return /<html[\s>]/i.test((text || "").slice(0, 2000));
  }

  function isLoginPage(url) {
    const login = meta("aisle-login");
    try {
      return Boolean(login) && new URL(url, window.location.href).pathname === login;
    } catch (error) {
      return false;
    }
  }

  // --- Sending what was kept ---------------------------------------------------------------

  function swapInto(item, html) {
    if (window.location.pathname !== item.page || !item.target) return;
    const target = document.querySelector(item.target);
    if (!target || !window.htmx) return;
    const options = item.select ? { select: item.select } : {};
    window.htmx.swap(target, html, { swapStyle: item.swap || "innerHTML" }, options);
  }

  async function sendOne(item) {
    const response = await fetch(item.path, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        [HEADER]: item.id,
        "X-CSRFToken": csrfToken(),
        "HX-Request": "true",
        "HX-Current-URL": window.location.href,
        "Content-Type": "application/x-www-form-urlencoded;charset=UTF-8",
      },
      body: item.body,
    });
    const text = await response.text();
    if ((response.redirected && isLoginPage(response.url)) || response.headers.get("X-Aisle-Sign-In")) {
      return "sign-in";
    }
    if (response.status >= 500) return "later";
    if (response.status >= 400 && item.held) {
      return { refused: reasonOf(text, response.headers.get("Content-Type")) };
    }
    // Sent at once (or refused at once): the answer is the page's, as any htmx answer.
    if (response.status >= 400 && (isWholePage(text) || !item.target)) {
      problem(reasonOf(text, response.headers.get("Content-Type")));
    } else {
      swapInto(item, text);
    }
    return "done";
  }

  async function flush() {
    if (state.flushing || !queueKey || !navigator.onLine || state.signIn) return;
    if (!load(queueKey).length) return;
    state.flushing = true;
    const hadHeld = load(queueKey).some((item) => item.held);
    if (hadHeld) state.note = say("sending");
    banner();
    let sent = false;
    try {
      for (;;) {
        const queue = load(queueKey);
        if (!queue.length) break;
        const item = queue[0];
        let outcome;
        try {
          outcome = await sendOne(item);
        } catch (error) {
          outcome = "later"; // no answer: still offline
        }
        if (outcome === "later" || outcome === "sign-in") {
          // No answer, or no session: everything kept now waits, and is listed.
          save(
            queueKey,
            load(queueKey).map((kept) => ({ ...kept, held: true })),
          );
          if (outcome === "sign-in") state.signIn = true;
          break;
        }
        if (outcome !== "done") {
          const refused = load(refusedKey);
          if (!refused.some((kept) => kept.id === item.id)) {
            refused.push({ ...item, reason: outcome.refused });
          }
          save(refusedKey, refused);
        }
        sent = true;
        save(
          queueKey,
          load(queueKey).filter((kept) => kept.id !== item.id),
        );
        banner();
      }
    } finally {
      state.flushing = false;
      state.note = hadHeld && sent && !load(queueKey).length ? say("sent") : "";
      banner();
      if (state.note) window.setTimeout(quiet, 10000);
    }
  }

  function keep(item) {
    const queue = load(queueKey);
    if (!queue.some((kept) => kept.id === item.id)) queue.push(item);
    save(queueKey, queue);
    banner();
  }

  // --- htmx's requests ---------------------------------------------------------------------

  function queueLabel(form) {
    const label = form.getAttribute("data-queue") || "";
    const field = form.querySelector("input:not([type=hidden]):not([type=checkbox]):not([type=radio])");
    return field && field.value ? `${label} ${field.value}`.trim() : label;
  }

  function requestItem(detail, form) {
    const target = detail.target && detail.target.id ? `#${detail.target.id}` : "";
    const data = detail.formData || detail.parameters;
    const body = new URLSearchParams();
    if (data && typeof data.forEach === "function") {
      data.forEach((value, name) => {
        if (typeof value === "string" && name !== "csrfmiddlewaretoken") body.append(name, value);
      });
    }
    const source = detail.elt;
    return {
      id: detail.headers[HEADER],
      path: detail.path,
      body: body.toString(),
      target,
      swap: (source && source.getAttribute("hx-swap")) || "innerHTML",
      select: (source && source.getAttribute("hx-select")) || "",
      label: queueLabel(form),
      page: window.location.pathname,
      time: new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" }),
    };
  }

  function queueForm(elt) {
    const form = elt && elt.closest ? elt.closest("form[data-queue]") : null;
    return form && queueKey ? form : null;
  }

  function scanItem(form) {
    const body = new URLSearchParams();
    new FormData(form).forEach((value, name) => {
      if (typeof value === "string" && name !== "csrfmiddlewaretoken") body.append(name, value);
    });
    return {
      id: newId(),
      path: form.getAttribute("action"),
      body: body.toString(),
      target: form.getAttribute("data-target") || "",
      swap: form.getAttribute("data-swap") || "innerHTML",
      select: "",
      label: queueLabel(form),
      page: window.location.pathname,
      time: new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" }),
      held: false,
    };
  }

  function afterScan(form) {
    if (!form || !form.hasAttribute("data-scan")) return;
    const field = form.querySelector("input[name=code]") || form.querySelector("input:not([type=hidden])");
    if (field) field.focus();
  }

  document.addEventListener("htmx:configRequest", (event) => {
    const detail = event.detail;
    if (detail.verb === "get") return;
    detail.headers[HEADER] = detail.headers[HEADER] || newId();
    const form = queueForm(detail.elt);
    if (form) {
      detail.elt.aisleItem = requestItem(detail, form);
      if (load(queueKey).length) {
        // Others wait already: this one joins them, so they keep their order.
        event.preventDefault();
        keep({ ...detail.elt.aisleItem, held: true });
        flush();
      }
    }
  });

  function retryOf(detail) {
    const elt = detail.elt;
    const config = detail.requestConfig || {};
    if ((config.verb || "get") === "get") {
      return () => window.htmx.ajax("GET", config.path, { source: elt, target: detail.target });
    }
    return () => window.htmx.trigger(elt, elt.matches("form") ? "submit" : "click");
  }

  function noAnswer(event) {
    const detail = event.detail;
    const elt = detail.elt;
    const form = queueForm(elt);
    if (form && elt.aisleItem) {
      keep({ ...elt.aisleItem, held: true });
      return;
    }
    if (((detail.requestConfig || {}).verb || "get") === "get") {
      banner(); // a poll or a page part: the banner says the network is gone, no more
      return;
    }
    problem(say("needs_network"), retryOf(detail));
  }

  document.addEventListener("htmx:sendError", noAnswer);
  document.addEventListener("htmx:timeout", noAnswer);

  // django-htmx's debug script (DEBUG on) replaces the whole document on a 4xx or 5xx:
  // this listener runs first (capture on the document) and keeps it from seeing them.
  document.addEventListener(
    "htmx:beforeOnLoad",
    (event) => {
      if (event.detail.xhr && event.detail.xhr.status >= 400) event.stopPropagation();
    },
    true,
  );

  // A poll (`X-Aisle-Poll`) that brings what its target shows already is not swapped:
  // the server answered 304 and the browser gave back the copy it kept (or another
  // tablet's render came back the same), so nothing is redrawn, focus and scroll stay.
  // A bare 304 (no kept copy) is never swapped either: it would blank the list.
  const lastPoll = new Map();

  function samePoll(detail) {
    const headers = (detail.requestConfig && detail.requestConfig.headers) || {};
    if (headers["X-Aisle-Poll"] !== "1") return false;
    const xhr = detail.xhr;
    if (xhr.status === 304) return true;
    if (xhr.status !== 200) return false;
    const key = (detail.target && detail.target.id) || detail.elt;
    const same = lastPoll.get(key) === xhr.responseText;
    lastPoll.set(key, xhr.responseText);
    return same;
  }

  document.addEventListener("htmx:beforeSwap", (event) => {
    const detail = event.detail;
    const xhr = detail.xhr;
    const status = xhr.status;
    const text = xhr.responseText;
    if (samePoll(detail)) {
      detail.shouldSwap = false;
      clearProblem();
      return;
    }
    if (isLoginPage(xhr.responseURL) || xhr.getResponseHeader("X-Aisle-Sign-In")) {
      detail.shouldSwap = false;
      const elt = detail.elt;
      if (queueForm(elt) && elt.aisleItem) keep({ ...elt.aisleItem, held: true });
      state.signIn = true;
      banner();
      return;
    }
    if (status >= 500) {
      detail.shouldSwap = false;
      problem(say("server_error"), retryOf(detail));
      return;
    }
    if (status >= 400) {
      const contentType = xhr.getResponseHeader("Content-Type") || "";
      const selects = detail.elt && detail.elt.closest && detail.elt.closest("[hx-select]");
      if (contentType.includes("json") || (isWholePage(text) && !selects)) {
        detail.shouldSwap = false;
        problem(reasonOf(text, contentType));
        return;
      }
      detail.shouldSwap = true;
      detail.isError = false;
    }
    if (status < 400) clearProblem();
  });

  // --- Plain forms ---------------------------------------------------------------------------

  function stampForms(root) {
    const scope = root && root.querySelectorAll ? root : document;
    const forms = scope.matches && scope.matches("form") ? [scope] : scope.querySelectorAll("form");
    for (const form of forms) {
      if ((form.getAttribute("method") || "").toLowerCase() !== "post") continue;
      if (form.hasAttribute("hx-post") || form.querySelector("input[name=action_id]")) continue;
      const field = document.createElement("input");
      field.type = "hidden";
      field.name = "action_id";
      field.value = newId();
      form.append(field);
    }
  }

  document.addEventListener(
    "submit",
    (event) => {
      const form = event.target;
      const question = form.getAttribute("data-confirm");
      if (question && !window.confirm(question)) {
        event.preventDefault();
        event.stopImmediatePropagation();
        return;
      }
      if (form.hasAttribute("data-needs-network") && !navigator.onLine) {
        event.preventDefault();
        event.stopImmediatePropagation();
        problem(say("needs_network"), () => {
          if (navigator.onLine) {
            clearProblem();
            form.requestSubmit();
          }
        });
        return;
      }
      if (form.hasAttribute("data-scan") && queueKey) {
        // A scan is sent by the queue, in order, with the field emptied at once: the
        // scanner's next code never lands in this one's request.
        event.preventDefault();
        event.stopImmediatePropagation();
        const field = form.querySelector("input[name=code]");
        if (field && !field.value.trim()) return;
        keep({ ...scanItem(form), held: !navigator.onLine });
        form.reset();
        afterScan(form);
        flush();
        return;
      }
      if (form.matches("form[data-sign-out]") && user) {
        const waiting = load(queueKey).length;
        if (waiting && !window.confirm(say("discard", { n: waiting }))) {
          event.preventDefault();
          event.stopImmediatePropagation();
          return;
        }
        clearMine();
      }
    },
    true,
  );

  document.addEventListener("click", (event) => {
    const target = event.target.closest ? event.target.closest("[data-print], [data-acknowledge], #aisle-net-retry") : null;
    if (!target) return;
    if (target.hasAttribute("data-print")) {
      window.print();
    } else if (target.hasAttribute("data-acknowledge")) {
      const id = target.getAttribute("data-acknowledge");
      save(refusedKey, load(refusedKey).filter((item) => item.id !== id));
      banner();
    } else if (state.retry) {
      const retry = state.retry;
      clearProblem();
      retry();
      flush();
    }
  });

  document.addEventListener("change", (event) => {
    const form = event.target.closest ? event.target.closest("form[data-clears]") : null;
    if (!form) return;
    const cleared = document.querySelector(form.getAttribute("data-clears"));
    if (cleared) cleared.replaceChildren();
  });

  // --- Online and offline --------------------------------------------------------------------

  window.addEventListener("offline", () => {
    state.note = "";
    banner();
  });

  window.addEventListener("online", () => {
    state.note = say("online");
    window.setTimeout(quiet, 10000);
    if (state.problem === say("needs_network")) state.problem = "";
    banner();
    flush();
  });

  function start() {
    try {
      words = JSON.parse((document.getElementById("aisle-strings") || {}).textContent || "{}");
    } catch (error) {
      words = {};
    }
    stampForms(document);
    document.body.addEventListener("htmx:load", (event) => stampForms(event.detail.elt));
    banner();
    flush();
    window.setInterval(flush, 15000);
    const worker = meta("aisle-sw");
    if (worker && "serviceWorker" in navigator && window.isSecureContext) {
      navigator.serviceWorker.register(worker).catch(() => {});
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
