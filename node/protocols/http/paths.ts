export const HTTP_FILES_PATH = '/chiral/v1/files'

export function fileUrl (endpoint: string, cid: string): string {
  return `${endpoint}${HTTP_FILES_PATH}/${cid}`
}
