import type { SqlClient } from "../store/store.ts";
import type { TrainingInput } from "./training.schemas.ts";

export interface TrainingRow {
  id: string;
  developer_id: string;
  course: string;
  completed_on: string;
  score: number | null;
  expires_on: string | null;
  created_at: Date;
}

export const trainingRepo = {
  async insert(q: SqlClient, id: string, developerId: string, r: TrainingInput, at: Date) {
    await q.query(
      `insert into training_records (id, developer_id, course, completed_on, score, expires_on, created_at)
       values ($1,$2,$3,$4,$5,$6,$7)`,
      [id, developerId, r.course, r.completedOn, r.score, r.expiresOn, at],
    );
  },
  async byId(q: SqlClient, id: string) {
    return (await q.query<TrainingRow>("select * from training_records where id = $1", [id])).rows[0];
  },
  async developerExists(q: SqlClient, id: string) {
    return (await q.query("select 1 from developers where id = $1", [id])).rows.length > 0;
  },
  async ofDeveloper(q: SqlClient, developerId: string, course?: string) {
    const params: unknown[] = [developerId];
    let where = "developer_id = $1";
    if (course) {
      params.push(course);
      where += " and course = $2";
    }
    return (
      await q.query<TrainingRow>(
        `select * from training_records where ${where} order by completed_on desc, course, id`,
        params,
      )
    ).rows;
  },
  async remove(q: SqlClient, id: string) {
    await q.query("delete from training_records where id = $1", [id]);
  },
};
