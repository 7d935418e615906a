import { problemAnswer, type Answer, type ApiClient, type JobView } from '../api/api-client';

export type JobCommand = 'cancel' | 'retry';

/** Sends a command for one job; the answer says what the API made of it (the job's new status, or the problem). */
export async function sendJobCommand(
  api: ApiClient,
  command: JobCommand,
  jobId: string,
): Promise<{ answer: Answer; view?: JobView }> {
  try {
    const path = command === 'cancel' ? '/v1/jobs/{id}/cancel' : '/v1/jobs/{id}/retry';
    const { data, error, response } = await api.POST(path, { params: { path: { id: jobId } } });
    if (data) {
      return {
        answer: { ok: true, status: response.status, message: `${command} accepted; the job is ${data.status}` },
        view: data,
      };
    }
    return { answer: problemAnswer(response.status, error) };
  } catch (err) {
    return { answer: problemAnswer(0, err) };
  }
}
