// Waits (up to two minutes) until the server under test answers, so the first test does not
// race its start-up.
export default async function globalSetup(): Promise<void> {
  const baseURL = process.env.PARLEY_BASE_URL ?? 'http://127.0.0.1:3000';
  const deadline = Date.now() + 120_000;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${baseURL}/login`);
      if (response.ok) return;
      lastError = new Error(`status ${response.status}`);
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`server did not start: ${String(lastError)}`);
}
