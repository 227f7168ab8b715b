import { expect, Page, test } from '@playwright/test';
import { apiChannel, log, open, person } from './helpers';

// Attachments (SPEC §7.4): A attaches a PNG drawn on a canvas and a text file with "Attach
// files"; B sees the image inline as its thumbnail and the file as a link with name and size;
// C, not a member, gets 404 for both; a 26 MB file is refused in the page (and 413 by the
// API); a JPEG carrying GPS EXIF comes back without it. One browser context per person.

/** A picture drawn on a canvas in `page`, encoded by the browser (`image/png` or `image/jpeg`). */
async function drawn(page: Page, type: string, width: number, height: number): Promise<Buffer> {
  const base64 = await page.evaluate(
    async ({ type, width, height }) => {
      const canvas = document.createElement('canvas');
      canvas.width = width;
      canvas.height = height;
      const ctx = canvas.getContext('2d');
      if (!ctx) throw new Error('no 2d context');
      for (let i = 0; i < 400; i++) {
        ctx.fillStyle = `hsl(${(i * 37) % 360} 70% ${30 + (i % 40)}%)`;
        ctx.fillRect((i * 53) % width, (i * 97) % height, 40 + (i % 90), 30 + (i % 70));
      }
      const blob: Blob = await new Promise((resolve, reject) =>
        canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('no blob'))), type, 0.92),
      );
      const bytes = new Uint8Array(await blob.arrayBuffer());
      let binary = '';
      for (const byte of bytes) binary += String.fromCharCode(byte);
      return btoa(binary);
    },
    { type, width, height },
  );
  return Buffer.from(base64, 'base64');
}

/** `jpeg` with an APP1 "Exif" segment carrying a GPS IFD (latitude 51° N) spliced in after SOI. */
function withGpsExif(jpeg: Buffer): Buffer {
  const tiff = Buffer.from([
    0x49, 0x49, 42, 0, 8, 0, 0, 0, // little-endian TIFF header, IFD0 at 8
    1, 0, // IFD0: one entry
    0x25, 0x88, 4, 0, 1, 0, 0, 0, 26, 0, 0, 0, // GPSInfo → the GPS IFD at 26
    0, 0, 0, 0, // no next IFD
    2, 0, // GPS IFD: two entries
    1, 0, 2, 0, 2, 0, 0, 0, 0x4e, 0, 0, 0, // GPSLatitudeRef "N"
    2, 0, 5, 0, 3, 0, 0, 0, 56, 0, 0, 0, // GPSLatitude: three rationals at 56
    0, 0, 0, 0,
    51, 0, 0, 0, 1, 0, 0, 0, 30, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
  ]);
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'binary'), tiff, Buffer.from('GPS-MARKER')]);
  const length = Buffer.alloc(2);
  length.writeUInt16BE(payload.length + 2);
  return Buffer.concat([jpeg.subarray(0, 2), Buffer.from([0xff, 0xe1]), length, payload, jpeg.subarray(2)]);
}

function line(page: Page, text: string) {
  return log(page).getByRole('listitem').filter({ hasText: text });
}

async function sendWithFiles(page: Page, text: string, files: { name: string; mimeType: string; buffer: Buffer }[]) {
  await page.getByLabel('Attach files').setInputFiles(files);
  const list = page.getByRole('list', { name: 'Files to send' });
  for (const file of files) {
    await expect(list.getByRole('listitem').filter({ hasText: file.name })).toBeVisible();
  }
  await page.getByLabel('Message', { exact: true }).fill(text);
  await page.getByLabel('Message', { exact: true }).press('Enter');
  await expect(line(page, text).last()).toBeVisible();
  await expect(line(page, text).last()).not.toContainText('Sending…');
  await expect(list).toHaveCount(0);
}

test('an image and a file reach the other member inline and as a link; a non-member gets 404', async ({ browser }) => {
  test.setTimeout(90_000);
  const a = await person(browser, 'Ava');
  const b = await person(browser, 'Bob');
  const c = await person(browser, 'Cal');
  const dm = await apiChannel(a.context.request, [b.id]);
  await open(a.page, `/chat/${dm}`);
  const png = await drawn(a.page, 'image/png', 1200, 900);
  const notes = Buffer.from('the quarterly notes\n');
  await sendWithFiles(a.page, 'the drawing and the notes', [
    { name: 'drawing.png', mimeType: 'image/png', buffer: png },
    { name: 'notes.txt', mimeType: 'text/plain', buffer: notes },
  ]);

  await open(b.page, `/chat/${dm}`);
  const message = line(b.page, 'the drawing and the notes');
  const img = message.getByRole('img', { name: 'drawing.png' });
  await expect(img).toBeVisible();
  const thumbnail = (await img.getAttribute('src')) ?? '';
  expect(thumbnail).toMatch(/^\/api\/chat\/attachments\/[0-9a-f-]+\/thumbnail$/);
  // It loaded (200) and is the thumbnail: smaller than the original in pixels and bytes.
  await expect.poll(() => img.evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth)).toBeGreaterThan(0);
  const natural = await img.evaluate((i: HTMLImageElement) => [i.naturalWidth, i.naturalHeight]);
  expect(natural).toEqual([320, 240]);
  const thumb = await b.context.request.get(thumbnail);
  expect(thumb.status()).toBe(200);
  expect((await thumb.body()).length).toBeLessThan(png.length);
  const full = (await img.locator('xpath=..').getAttribute('href')) ?? '';
  expect(full).toBe(thumbnail.replace(/\/thumbnail$/, ''));
  expect((await b.context.request.get(full)).status()).toBe(200);
  const link = message.getByRole('link', { name: 'notes.txt, 20 B' });
  await expect(link).toBeVisible();
  const file = (await link.getAttribute('href')) ?? '';
  const download = await b.context.request.get(file);
  expect(download.status()).toBe(200);
  expect(download.headers()['content-disposition']).toContain('attachment');
  expect(download.headers()['x-content-type-options']).toBe('nosniff');
  expect(await download.text()).toBe('the quarterly notes\n');

  // C is no member: both files are "not found", as an unknown id is.
  for (const url of [full, thumbnail, file]) {
    const response = await c.context.request.get(url);
    expect(response.status(), url).toBe(404);
  }
  for (const p of [a, b, c]) await p.context.close();
});

test('a 26 MB file is refused in the page without uploading, and by the API with 413', async ({ browser }) => {
  test.setTimeout(90_000);
  const a = await person(browser, 'Ava');
  const b = await person(browser, 'Bob');
  const dm = await apiChannel(a.context.request, [b.id]);
  await open(a.page, `/chat/${dm}`);
  const big = Buffer.alloc(26 * 1024 * 1024, 7);
  const uploads: string[] = [];
  a.page.on('request', (request) => {
    if (request.url().includes('/uploads')) uploads.push(request.url());
  });
  await a.page.getByLabel('Attach files').setInputFiles([{ name: 'big.bin', mimeType: 'application/octet-stream', buffer: big }]);
  await expect(a.page.getByRole('alert').filter({ hasText: 'big.bin is too large: at most 25.0 MB a file.' })).toBeVisible();
  expect(uploads).toEqual([]);
  const response = await a.context.request.post(`/api/chat/channels/${dm}/uploads?name=big.bin`, {
    data: big,
    headers: { 'content-type': 'application/octet-stream' },
  });
  expect(response.status()).toBe(413);
  const body = await response.json();
  expect(body.error.code).toBe('payload_too_large');
  expect(body.error.message).toContain('too large');
  for (const p of [a, b]) await p.context.close();
});

test('a JPEG with GPS EXIF comes back without it', async ({ browser }) => {
  test.setTimeout(90_000);
  const a = await person(browser, 'Ava');
  const b = await person(browser, 'Bob');
  const dm = await apiChannel(a.context.request, [b.id]);
  await open(a.page, `/chat/${dm}`);
  const jpeg = withGpsExif(await drawn(a.page, 'image/jpeg', 640, 480));
  expect(jpeg.includes(Buffer.from('Exif\0\0', 'binary'))).toBeTruthy();
  await sendWithFiles(a.page, 'where I was', [{ name: 'holiday.jpg', mimeType: 'image/jpeg', buffer: jpeg }]);

  await open(b.page, `/chat/${dm}`);
  const img = line(b.page, 'where I was').getByRole('img', { name: 'holiday.jpg' });
  await expect(img).toBeVisible();
  const full = ((await img.getAttribute('src')) ?? '').replace(/\/thumbnail$/, '');
  const response = await b.context.request.get(full);
  expect(response.status()).toBe(200);
  expect(response.headers()['content-type']).toBe('image/jpeg');
  const served = await response.body();
  expect(served.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
  expect(served.includes(Buffer.from('Exif', 'binary'))).toBeFalsy();
  expect(served.includes(Buffer.from('GPS-MARKER'))).toBeFalsy();
  for (const p of [a, b]) await p.context.close();
});
