/**
 * POSTs a file as multipart/form-data, reporting the bytes sent: fetch cannot tell upload progress, an
 * XMLHttpRequest can. Resolves with the status and the parsed JSON body, whatever the status.
 */
export function uploadFile(options: {
  url: string;
  token: string;
  field: string;
  file: File;
  onProgress(fraction: number): void;
  signal?: AbortSignal;
}): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', options.url);
    xhr.setRequestHeader('Authorization', `Bearer ${options.token}`);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) options.onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      let body: unknown = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = xhr.responseText;
      }
      resolve({ status: xhr.status, body });
    };
    xhr.onerror = () => reject(new Error('the upload did not reach the API'));
    xhr.onabort = () => reject(new Error('the upload was stopped'));
    options.signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    const form = new FormData();
    form.append(options.field, options.file, options.file.name);
    xhr.send(form);
  });
}
