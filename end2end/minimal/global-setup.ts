// Waits (up to two minutes) until the minimal host answers, so the test does not race its
// start-up.
export default async function globalSetup(): Promise<void> {
  const baseURL = process.env.MINIMAL_BASE_URL ?? 'http://127.0.0.1:3100';
  const deadline = Date.now() + 120_000;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${baseURL}/sign-in`);
      if (response.ok) return;
      lastError = new Error(`status ${response.status}`);
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`server did not start: ${String(lastError)}`);
}
