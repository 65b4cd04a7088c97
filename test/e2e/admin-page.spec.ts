// The admin page as a user meets it: redirect to the real Keycloak login page, back to the
// page, upload the canary, watch its row complete, download the error workbook.
import { readFile } from 'node:fs/promises';
import { expect, test, type Page } from '@playwright/test';
import { clearFault, setFault } from '../../box/control-client.ts';
import { buildCanaryWorkbook, canaryFileName, readImportFailureReasons } from '../../src/canary.ts';
import { boxFromEnv } from '../support/playwright-box.ts';

const box = boxFromEnv();
const HEADERS = ['File name', 'Uploaded', 'User', 'Status', 'Errors', 'Imported', 'Error workbook'];

test.afterEach(async () => {
  await clearFault(box.urls.control);
});

async function logIn(page: Page): Promise<void> {
  await page.goto(`${box.urls.app}/admin/uploads`);
  await page.fill('#username', box.testUser.username);
  await page.fill('#password', box.testUser.password);
  await page.click('#kc-login');
}

test('logs in through Keycloak, uploads the canary and sees it complete with one error', async ({ page }) => {
  await page.goto(`${box.urls.app}/admin/uploads`);

  // keycloak-js (login-required) sends the browser to Keycloak's own login page.
  await expect(page).toHaveURL(new RegExp(`^${box.urls.keycloak}/realms/lin/protocol/openid-connect/auth`));
  await page.fill('#username', box.testUser.username);
  await page.fill('#password', box.testUser.password);
  await page.click('#kc-login');

  await expect(page).toHaveURL(new RegExp(`^${box.urls.app}/admin/uploads`));
  await expect(page.locator('#current-user')).toHaveText(box.testUser.username);
  await expect(page.locator('#uploads-table thead th')).toHaveText(HEADERS);

  const fileName = canaryFileName('synthetic-probe', 'box');
  await page.setInputFiles('input[type=file]#upload-file', {
    name: fileName,
    mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    buffer: await buildCanaryWorkbook(),
  });
  await page.click('#upload-button');
  await expect(page.locator('#upload-message')).toHaveText(`Uploaded ${fileName}`);

  // The table refreshes itself: no clicks needed to see the import finish.
  const row = page.locator(`#uploads-table tbody tr:has(td:text-is("${fileName}"))`);
  await expect(row).toHaveCount(1);
  const cells = row.locator('td');
  await expect(cells.nth(3)).toHaveText('COMPLETED');
  await expect(cells.nth(0)).toHaveText(fileName);
  await expect(cells.nth(2)).toHaveText(box.testUser.username);
  await expect(cells.nth(4)).toHaveText('1');
  await expect(cells.nth(5)).toHaveText('0');

  const [download] = await Promise.all([page.waitForEvent('download'), row.locator('a.error-workbook').click()]);
  expect(download.suggestedFilename()).toMatch(/^\d+-errors\.xlsx$/);
  const xlsx = await readFile((await download.path())!);
  expect(await readImportFailureReasons(xlsx)).toEqual(['Person with id 999999999 does not exist']);
});

test('the login page says the account is disabled when the test user is disabled in Keycloak', async ({ page }) => {
  await setFault(box.urls.control, 'test-user-disabled');
  await logIn(page);
  await expect(page.getByText('Account is disabled')).toBeVisible();
  expect(page.url()).toMatch(new RegExp(`^${box.urls.keycloak}/`));
  await expect(page.locator('#uploads-table')).toHaveCount(0);
});

test('stale-config: the API answers 401 and the page keeps reloading itself; clearing settles it', async ({ page }) => {
  await logIn(page);
  await expect(page.locator('#uploads-table')).toBeVisible();

  let loads = 0;
  page.on('load', () => loads++);
  await setFault(box.urls.control, 'stale-config');
  await expect.poll(() => loads, { timeout: 15_000 }).toBeGreaterThanOrEqual(3);

  await clearFault(box.urls.control, 'stale-config');
  await expect(page.locator('#uploads-table')).toBeVisible();
  const settled = loads;
  await page.waitForTimeout(5000);
  expect(loads - settled).toBeLessThanOrEqual(1);
  await expect(page.locator('#uploads-table')).toBeVisible();
});
