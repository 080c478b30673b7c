// The data of a failure event, the same for every job kind but its state name (beam.failure: 'Failed',
// hls.failure: 'HLSFailed'): the job failed, or what it recorded could not be uploaded (UPLOAD_ERROR).
export interface JobFailure {
  message: string | undefined;
  type: string | undefined;
  at: string;
  duration: number;
}

export function failureEventData(base: Record<string, unknown>, failure: JobFailure, stateName: string): Record<string, unknown> {
  return {
    ...base,
    error_code: 0,
    error_message: failure.message,
    error_type: failure.type,
    state_name: stateName,
    state_timestamp: failure.at,
    duration: failure.duration,
  };
}
