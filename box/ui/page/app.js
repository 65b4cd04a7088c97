// The Bulk Upload admin page: keycloak-js login (login-required, PKCE), upload, and the table
// of uploads refreshed every 2 s. On any 401 from the API the page reloads itself, as the
// production page does.
import Keycloak from '/admin/assets/keycloak.js';

const REFRESH_MS = 2000;
const config = await (await fetch('/admin/config.json')).json();
const keycloak = new Keycloak({ url: config.keycloakUrl, realm: config.realm, clientId: config.clientId });
try {
  await keycloak.init({ onLoad: 'login-required', pkceMethod: 'S256', checkLoginIframe: false });
} catch (err) {
  // What the user sees when the login round trip fails (e.g. Keycloak answering 5xx).
  document.getElementById('loading').textContent = `Login failed: ${err?.error ?? err?.message ?? 'unknown error'}`;
  throw err;
}

const root = document.getElementById('root');
root.replaceChildren(document.getElementById('app-template').content.cloneNode(true));
const $ = (id) => document.getElementById(id);
$('current-user').textContent = keycloak.tokenParsed?.preferred_username ?? '';

async function api(path, init = {}) {
  try {
    await keycloak.updateToken(30);
  } catch {
    await keycloak.login();
  }
  const res = await fetch(config.apiPath + path, {
    ...init,
    headers: { ...(init.headers ?? {}), Authorization: `Bearer ${keycloak.token}` },
  });
  if (res.status === 401) {
    location.reload();
    throw new Error('401 Unauthorized');
  }
  return res;
}

function setMessage(text) {
  $('upload-message').textContent = text;
}

const rows = new Map(); // logId -> <tr>, kept so that rows are not replaced under the user's cursor

function setCell(td, text) {
  if (td.textContent !== text) td.textContent = text;
}

function renderRow(u) {
  let tr = rows.get(u.logId);
  if (!tr) {
    tr = document.createElement('tr');
    tr.dataset.logId = String(u.logId);
    for (let i = 0; i < 7; i++) tr.appendChild(document.createElement('td'));
    rows.set(u.logId, tr);
  }
  const td = tr.children;
  setCell(td[0], u.fileName);
  setCell(td[1], u.uploadedDate ?? '');
  setCell(td[2], u.username ?? '');
  setCell(td[3], u.fileStatus);
  setCell(td[4], u.numberOfErrors === null || u.numberOfErrors === undefined ? '' : String(u.numberOfErrors));
  setCell(td[5], u.numberImported === null || u.numberImported === undefined ? '' : String(u.numberImported));
  const wantsLink = (u.numberOfErrors ?? 0) > 0;
  const link = td[6].querySelector('a.error-workbook');
  if (wantsLink && !link) {
    const a = document.createElement('a');
    a.className = 'error-workbook';
    a.href = '#';
    a.textContent = 'Download';
    a.addEventListener('click', (e) => {
      e.preventDefault();
      downloadErrors(u.logId).catch((err) => setMessage(`Download failed: ${err.message}`));
    });
    td[6].replaceChildren(a);
  } else if (!wantsLink && link) {
    td[6].replaceChildren();
  }
  return tr;
}

async function refresh() {
  const res = await api('/status?page=0&size=20&sort=uploadedDate,desc');
  if (!res.ok) {
    setMessage(`Could not load uploads: ${res.status} ${await res.text()}`);
    return;
  }
  const uploads = await res.json();
  const tbody = $('uploads-table').querySelector('tbody');
  const wanted = uploads.map(renderRow);
  const keep = new Set(uploads.map((u) => u.logId));
  for (const [logId, tr] of rows)
    if (!keep.has(logId)) {
      tr.remove();
      rows.delete(logId);
    }
  wanted.forEach((tr, i) => {
    if (tbody.children[i] !== tr) tbody.insertBefore(tr, tbody.children[i] ?? null);
  });
}

async function upload() {
  const file = $('upload-file').files?.[0];
  if (!file) {
    setMessage('Choose a file to upload');
    return;
  }
  const form = new FormData();
  form.append('file', file, file.name);
  $('upload-button').disabled = true;
  try {
    const res = await api('/file', { method: 'POST', body: form });
    if (res.ok) {
      const u = await res.json();
      setMessage(`Uploaded ${u.fileName}`);
      $('upload-file').value = '';
    } else {
      setMessage(`Upload failed: ${res.status} ${await res.text()}`);
    }
  } finally {
    $('upload-button').disabled = false;
  }
  await refresh();
}

async function downloadErrors(logId) {
  const res = await api(`/uploadedFileErrors/${logId}`);
  if (!res.ok) throw new Error(`${res.status}`);
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = `${logId}-errors.xlsx`;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

$('upload-button').addEventListener('click', () => upload().catch((err) => setMessage(`Upload failed: ${err.message}`)));
$('refresh-button').addEventListener('click', () => refresh().catch((err) => setMessage(err.message)));
const tick = () => refresh().catch((err) => setMessage(`Could not load uploads: ${err.message}`));
await tick();
setInterval(tick, REFRESH_MS);
