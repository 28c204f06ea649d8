// The quickstart flow written only against types generated from openapi/openapi.json by
// openapi-typescript, called with openapi-fetch. .ci/run generates ./schema.d.ts and runs
// `tsc --noEmit`: a spec change that breaks a generated client breaks CI.
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

type Session = components["schemas"]["Session"];

export async function quickstart(baseUrl: string, email: string, password: string): Promise<Session> {
  const api = createClient<paths>({ baseUrl });

  // The catalogue, with an array query parameter; a preview; no account needed.
  const exercises = await api.GET("/v1/exercises", {
    params: { query: { goal: "circulation", available_equipment: ["chair", "wall"], limit: 10 } },
  });
  const firstExercise: string | undefined = exercises.data?.items[0]?.id;
  const request: components["schemas"]["ProgrammeRequest"] = {
    age: 72,
    activity_level: "lightly_active",
    goals: ["fall_prevention"],
  };
  const preview = await api.POST("/v1/programmes/preview", { body: request });
  const weeks: number = preview.data?.weeks.length ?? 0;

  // An account and a token.
  await api.POST("/v1/auth/register", { body: { email, password } });
  const login = await api.POST("/v1/auth/token", { body: { email, password } });
  if (!login.data) throw new Error(login.error?.detail ?? "login failed");
  const headers = { Authorization: `Bearer ${login.data.access_token}` };

  // Store a programme, adapt it, diff two versions (from/to are any JSON values).
  const stored = await api.POST("/v1/me/programmes", { headers, body: request });
  const id = stored.data!.id;
  await api.POST("/v1/me/programmes/{id}/adapt", { headers, params: { path: { id } } });
  const diff = await api.GET("/v1/me/programmes/{id}/diff", {
    headers,
    params: { path: { id }, query: { from: 1, to: 2 } },
  });
  const changed: unknown = diff.data?.changes[0]?.from;

  // A session with sets (`completed` may be left out) and an Idempotency-Key.
  const created = await api.POST("/v1/me/sessions", {
    headers,
    params: { header: { "Idempotency-Key": "first-session" } },
    body: {
      started_at: "2026-12-07T07:30:00+01:00",
      duration_seconds: 1500,
      programme_id: id,
      sets: [{ exercise_id: firstExercise ?? "seated-calf-raise", set_number: 1, side: "left", reps: 15 }],
    },
  });
  const session = created.data!;

  // A merge patch of one field, under If-Match; a stale ETag is a 412 problem.
  const patched = await api.PATCH("/v1/me/sessions/{id}", {
    headers,
    params: { path: { id: session.id }, header: { "If-Match": `"${session.version}"` } },
    body: { pain_next_morning: 2, notes: null },
  });
  if (patched.response.status === 412) console.log(patched.error?.detail);

  // The change feed, then a delete.
  const feed = await api.GET("/v1/me/changes", { headers, params: { query: { limit: 100 } } });
  const next: string | undefined = feed.data?.next;
  await api.GET("/v1/me/changes", { headers, params: { query: { since: next } } });
  await api.DELETE("/v1/me/sessions/{id}", { headers, params: { path: { id: session.id } } });
  console.log(weeks, changed);
  return patched.data ?? session;
}
