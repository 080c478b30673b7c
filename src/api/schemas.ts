// Schema pieces several route files share.
import { Type } from 'typebox';
import { pageQuery } from './pagination.js';
import { JOB_STATUSES } from '../model/jobStatus.js';

/** Path and query ids: objectIds and other short tokens, never a path or anything to escape. */
export const Id = Type.String({ pattern: '^[a-zA-Z0-9_-]{1,64}$' });

/** Filters of the recording-job lists (recordings, live streams). */
export const JobListQuery = Type.Object({
  ...pageQuery,
  room_id: Type.Optional(Id),
  session_id: Type.Optional(Id),
  status: Type.Optional(Type.Union(JOB_STATUSES.map((s) => Type.Literal(s)))),
});

