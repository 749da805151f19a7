// The feature board, rendered on the server on every request: the data
// comes from the API ($API_URL), which has the engine rank it.
export const dynamic = "force-dynamic";

// The whole call may take 5 s; the API gives up on the engine after 3 s, so
// an engine outage shows as the API's 502 and its reason.
async function features() {
  const api = process.env.API_URL || "http://api:8080";
  try {
    const res = await fetch(`${api}/api/features`, { cache: "no-store", signal: AbortSignal.timeout(5000) });
    const body = await res.json();
    return res.ok ? { data: body } : { error: `${api}: ${res.status} ${body.error || ""}` };
  } catch (e) {
    return { error: `${api}: ${e.cause?.code || e.message}` };
  }
}

export default async function Page() {
  const { data, error } = await features();
  if (error) {
    return (
      <main>
        <h1>Feature board</h1>
        <p id="error">API unavailable: {error}</p>
      </main>
    );
  }
  return (
    <main>
      <h1>Feature board</h1>
      <table>
        <thead>
          <tr><th>#</th><th>feature</th><th>up</th><th>down</th><th>score</th></tr>
        </thead>
        <tbody>
          {data.features.map((f) => (
            <tr key={f.id} id={`feature-${f.id}`}>
              <td>{f.rank}</td><td>{f.name}</td><td>{f.up}</td><td>{f.down}</td><td>{f.score.toFixed(4)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p id="served-by">
        ranked by engine <code>{data.engine}</code> ({data.engine_version}), served by api <code>{data.api}</code>
      </p>
    </main>
  );
}
