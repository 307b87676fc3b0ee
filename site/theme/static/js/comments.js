/*
 * Townsquare comments: progressive enhancement for a topic or news page.
 *
 * Without this script the page still works: comments are in the built HTML,
 * the form posts and the backend redirects back, and "Reply" links open a
 * reply page. With it, comments published since the build appear, posting
 * stays on the page, and replies are written in place.
 *
 * The site runs under a strict Content-Security-Policy, so this file never
 * sets inline styles. Everything is built with createElement/textContent;
 * the only HTML inserted is a comment's `html`, which the server sanitised.
 */
(() => {
  "use strict";

  const GENERIC_ERROR =
    "Sorry, we could not send your comment. Please try again in a few minutes.";

  // Messages for checks the browser can make before anything is sent. The
  // server checks again and answers in the same shape.
  const CHECKS = {
    author: { missing: "Enter your name" },
    body: { missing: "Enter your comment" },
    email: { format: "Enter an email address in the correct format, like name@example.com" },
  };

  const thread = document.querySelector(".comments[data-api]");
  if (!thread) return;

  const api = thread.dataset.api;
  const slug = thread.dataset.page;
  const form = document.getElementById("comment-form");
  const countNode = thread.querySelector(".comments-count");
  let count = (countNode && parseInt(countNode.textContent, 10)) || 0;

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;
    return node;
  }

  function countText(n) {
    return n + (n === 1 ? " comment" : " comments");
  }

  function setCount(n) {
    count = n;
    if (countNode) countNode.textContent = countText(n);
    for (const node of document.querySelectorAll("[data-count-for]")) {
      if (node.dataset.countFor === slug) node.textContent = countText(n);
    }
  }

  /* Rendering: the same markup as partials/comments.html, plus "New". */

  function buildComment(c) {
    const item = el("li", "comment");
    item.id = "comment-" + c.id;

    const card = el("article", "comment-card");
    card.setAttribute("aria-label", "Comment by " + c.author);

    const meta = el("p", "comment-meta");
    const time = el("time", null, c.created_display);
    time.setAttribute("datetime", c.created);
    meta.append(el("span", "comment-author", c.author), " ", time, " ");
    meta.append(el("strong", "badge-new", "New"));

    const body = el("div", "comment-body");
    body.innerHTML = c.html; // sanitised by the server before it is stored
    card.append(meta, body);

    // The form is only in the page while the thread is open.
    if (form) {
      const reply = el("a", "comment-reply", "Reply");
      reply.href = api + "/" + c.id + "/reply";
      reply.dataset.replyTo = c.id;
      reply.append(el("span", "visually-hidden", " to " + c.author));
      card.append(reply);
    }
    item.append(card);
    return item;
  }

  function listFor(parentId) {
    const parent = parentId != null && document.getElementById("comment-" + parentId);
    if (parent && thread.contains(parent)) {
      let replies = parent.querySelector(":scope > .comment-replies");
      if (!replies) {
        replies = el("ol", "comment-replies");
        parent.append(replies);
      }
      return replies;
    }

    // A reply whose parent is not on the page goes to the top level.
    const list = thread.querySelector(".comment-list");
    const empty = thread.querySelector(".comments-empty");
    if (empty) empty.remove();
    list.hidden = false;
    return list;
  }

  /** Add one comment to the thread; null if the page already shows it. */
  function insertComment(c) {
    if (document.getElementById("comment-" + c.id)) return null;

    const item = buildComment(c);
    listFor(c.parent).append(item);
    if (c.id > (parseInt(thread.dataset.lastId, 10) || 0)) {
      thread.dataset.lastId = c.id;
    }
    return item;
  }

  /* Live comments: what was published after the page was built. */

  async function loadNewComments() {
    const after = parseInt(thread.dataset.lastId, 10) || 0;
    try {
      const response = await fetch(api + "?after=" + after, {
        headers: { Accept: "application/json" },
        cache: "no-cache",
      });
      if (response.status !== 200) return;

      const data = await response.json();
      if (!Array.isArray(data.comments)) return;
      data.comments.forEach(insertComment);
      if (typeof data.count === "number") setCount(data.count);
    } catch (error) {
      // Offline or API down: the built page is still correct, so stay quiet.
    }
  }

  loadNewComments();
  if (!form) return;

  /* The form: posting, errors, replies. */

  const heading = document.getElementById("comment-form-heading");
  const headingText = heading.textContent;
  const parentInput = form.elements.namedItem("parent");
  const submit = form.querySelector('[type="submit"]');
  const pageTitle = document.title;

  // Marks the form's own place so a reply can move it and put it back.
  const home = document.createComment(" comment form ");
  form.before(home);

  const cancel = el("button", "button button-secondary", "Cancel reply");
  cancel.type = "button";
  cancel.hidden = true;
  submit.after(cancel);

  // Our error summary replaces the browser's own bubbles.
  form.noValidate = true;

  let replyLink = null;
  let notice = null;
  let sending = false;

  function field(name) {
    return form.elements.namedItem(name);
  }

  /* Replying in place */

  function startReply(link) {
    const card = link.closest(".comment-card");
    const author = card.querySelector(".comment-author");

    card.after(form);
    parentInput.value = link.dataset.replyTo;
    heading.textContent = "Reply to " + (author ? author.textContent : "this comment");
    cancel.hidden = false;
    replyLink = link;
    // Start where the member has something to write: their name, if empty.
    (field("author").value.trim() ? field("body") : field("author")).focus();
  }

  function endReply(restoreFocus) {
    const link = replyLink;

    home.after(form);
    parentInput.value = "";
    heading.textContent = headingText;
    cancel.hidden = true;
    replyLink = null;
    if (restoreFocus && link && document.contains(link)) link.focus();
  }

  document.addEventListener("click", (event) => {
    const link = event.target.closest("a.comment-reply");
    if (!link || !thread.contains(link)) return;
    // Let a reader open the reply page in a new tab if they ask to.
    if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;

    event.preventDefault();
    startReply(link);
  });

  cancel.addEventListener("click", () => endReply(true));

  /* Errors, in the pattern public-service forms use */

  function clearErrors() {
    const summary = form.querySelector(".error-summary");
    if (summary) summary.remove();
    for (const message of form.querySelectorAll(".error-message")) message.remove();
    for (const wrapper of form.querySelectorAll(".field-error")) {
      wrapper.classList.remove("field-error");
    }
    for (const input of form.querySelectorAll("[aria-invalid]")) {
      input.removeAttribute("aria-invalid");
      input.setAttribute("aria-describedby", input.dataset.describedby || "");
    }
    document.title = pageTitle;
  }

  function markField(input, text) {
    const message = el("p", "error-message");
    message.id = input.id + "-error";
    message.append(el("span", "visually-hidden", "Error: "), text);
    input.before(message);

    if (input.dataset.describedby == null) {
      input.dataset.describedby = input.getAttribute("aria-describedby") || "";
    }
    input.setAttribute("aria-describedby", (input.dataset.describedby + " " + message.id).trim());
    input.setAttribute("aria-invalid", "true");
    input.closest(".field").classList.add("field-error");
  }

  /** Show `fields` ({name: message}) or, failing that, one `message`. */
  function showErrors(fields, message) {
    const summary = el("div", "error-summary");
    summary.setAttribute("role", "alert");
    summary.tabIndex = -1;
    summary.append(el("h2", null, "There is a problem"));

    if (fields) {
      const list = el("ul");
      for (const [name, text] of Object.entries(fields)) {
        const input = field(name);
        const item = el("li");
        if (input && input.id) {
          const link = el("a", null, String(text));
          link.href = "#" + input.id;
          item.append(link);
          markField(input, String(text));
        } else {
          item.textContent = String(text);
        }
        list.append(item);
      }
      summary.append(list);
    } else {
      summary.append(el("p", null, message || GENERIC_ERROR));
    }

    form.prepend(summary);
    document.title = "Error: " + pageTitle;
    summary.focus();
  }

  // A summary link focuses its field and brings its label into view.
  form.addEventListener("click", (event) => {
    const link = event.target.closest(".error-summary a");
    const input = link && document.getElementById(link.hash.slice(1));
    if (!input) return;

    event.preventDefault();
    const label = form.querySelector('label[for="' + input.id + '"]');
    (label || input).scrollIntoView();
    input.focus({ preventScroll: true });
  });

  function checkFields() {
    const errors = {};
    for (const name of ["author", "body"]) {
      if (!field(name).value.trim()) errors[name] = CHECKS[name].missing;
    }
    if (field("email").validity.typeMismatch) errors.email = CHECKS.email.format;
    return Object.keys(errors).length ? errors : null;
  }

  /* Posting */

  function showNotice(message, item) {
    notice = el("div", "notice notice-success");
    notice.setAttribute("role", "status");
    notice.tabIndex = -1;
    notice.append(el("p", null, message));
    if (item) {
      const link = el("a", null, "Go to your comment");
      link.href = "#" + item.id;
      const line = el("p");
      line.append(link);
      notice.append(line);
    }
    home.before(notice);
    notice.focus();
  }

  function succeeded(data) {
    const comment = data.comment;
    const published = comment.status === "published";
    const item = published ? insertComment(comment) : null;

    if (item) setCount(count + 1);
    if (replyLink) endReply(false);
    form.reset();
    parentInput.value = "";
    showNotice(
      data.message ||
        (published
          ? "Your comment is published."
          : "Thank you. A moderator will read your comment before it shows on this page."),
      item,
    );
  }

  async function send() {
    const payload = {
      author: field("author").value,
      body: field("body").value,
      email: field("email").value,
      parent: parentInput.value ? Number(parentInput.value) : null,
    };
    let response;
    let data = {};

    try {
      response = await fetch(form.action, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(payload),
      });
    } catch (error) {
      showErrors(null, GENERIC_ERROR);
      return;
    }
    try {
      data = (await response.json()) || {};
    } catch (error) {
      // A proxy's HTML error page, say: fall back to the generic message.
    }

    const problem = data.error || {};
    if (response.status === 201 && data.comment) {
      succeeded(data);
    } else if (response.status === 400 && problem.fields && Object.keys(problem.fields).length) {
      showErrors(problem.fields);
    } else {
      showErrors(null, problem.message);
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (sending) return;

    clearErrors();
    if (notice) notice.remove();
    const errors = checkFields();
    if (errors) {
      showErrors(errors);
      return;
    }

    sending = true;
    submit.disabled = true;
    try {
      await send();
    } finally {
      sending = false;
      submit.disabled = false;
    }
  });
})();
