// The source files the storage-code lint reads: the client's document selector, the
// server's open-document filter and its workspace scan all use this one list, so a
// language added here is linted everywhere at once.
export const CODE_LANGUAGES = ['typescript', 'javascript', 'typescriptreact', 'javascriptreact'] as const;

/** File names of those languages, for the scan of files that are not open. */
export const CODE_FILE_EXT = /\.(?:[cm]?[jt]s|[jt]sx)$/i;
