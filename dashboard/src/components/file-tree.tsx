import { useState } from "preact/hooks";
import type { ArtifactFile } from "../../../shared/src/protocol/common.ts";
import { buildTree, type TreeFolder } from "../file-tree-model.ts";
import { bytes } from "../format.ts";

interface FileTreeProps {
  files: readonly ArtifactFile[];
  selected: string | null;
  onSelect(file: ArtifactFile): void;
}

/** The artifacts as folders (collapsible) and files (buttons that open them in the viewer). */
export function FileTree({ files, selected, onSelect }: FileTreeProps) {
  const tree = buildTree(files);
  return (
    <nav aria-label="Files" class="tree">
      <FolderItems folder={tree} selected={selected} onSelect={onSelect} />
    </nav>
  );
}

function FolderItems({
  folder,
  selected,
  onSelect,
}: {
  folder: TreeFolder<ArtifactFile>;
  selected: string | null;
  onSelect(file: ArtifactFile): void;
}) {
  return (
    <ul>
      {folder.folders.map((child) => (
        <Folder key={child.path} folder={child} selected={selected} onSelect={onSelect} />
      ))}
      {folder.files.map(({ name, file }) => (
        <li key={file.path} class="tree-row">
          <button
            type="button"
            class="tree-file"
            aria-current={selected === file.path ? "true" : undefined}
            title={file.path}
            onClick={() => onSelect(file)}
          >
            {name}
          </button>
          <span class="muted small">{bytes(file.size)}</span>
        </li>
      ))}
    </ul>
  );
}

function Folder({
  folder,
  selected,
  onSelect,
}: {
  folder: TreeFolder<ArtifactFile>;
  selected: string | null;
  onSelect(file: ArtifactFile): void;
}) {
  const [open, setOpen] = useState(true);
  return (
    <li>
      <button type="button" class="tree-folder" aria-expanded={open} onClick={() => setOpen(!open)}>
        <span aria-hidden="true">{open ? "▾" : "▸"}</span> {folder.name}/
      </button>
      {open ? <FolderItems folder={folder} selected={selected} onSelect={onSelect} /> : null}
    </li>
  );
}
