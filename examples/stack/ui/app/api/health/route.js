// The UI's own liveness (the image's healthcheck): it does not call the API,
// so a slow API does not get the UI restarted.
export const dynamic = "force-dynamic";

export function GET() {
  return Response.json({ status: "ok" });
}
