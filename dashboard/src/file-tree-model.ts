/** A folder of the artifact tree: its sub-folders and files, each sorted by name. */
export interface TreeFolder<File> {
  name: string;
  /** The folder's path from the root ("" for the root). */
  path: string;
  folders: TreeFolder<File>[];
  files: { name: string; file: File }[];
}

/**
 * The folder tree of a manifest's flat paths ("src/app/main.py"): folders before files, each
 * by name. Empty segments (a leading, doubled or trailing slash) are ignored.
 */
export function buildTree<File extends { path: string }>(files: readonly File[]): TreeFolder<File> {
  const root: TreeFolder<File> = { name: "", path: "", folders: [], files: [] };
  for (const file of files) {
    const parts = file.path.split("/").filter((part) => part !== "");
    const name = parts.pop();
    if (name === undefined) continue;
    let folder = root;
    for (const part of parts) {
      let next = folder.folders.find((candidate) => candidate.name === part);
      if (next === undefined) {
        next = { name: part, path: folder.path === "" ? part : `${folder.path}/${part}`, folders: [], files: [] };
        folder.folders.push(next);
      }
      folder = next;
    }
    folder.files.push({ name, file });
  }
  sortTree(root);
  return root;
}

function sortTree<File>(folder: TreeFolder<File>): void {
  folder.folders.sort((a, b) => compare(a.name, b.name));
  folder.files.sort((a, b) => compare(a.name, b.name));
  for (const child of folder.folders) sortTree(child);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
