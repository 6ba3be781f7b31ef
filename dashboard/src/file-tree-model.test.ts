import { describe, expect, it } from "vitest";
import { buildTree } from "./file-tree-model.ts";

describe("buildTree", () => {
  it("nests paths into folders, folders first, sorted", () => {
    const tree = buildTree([
      { path: "src/b.py" },
      { path: "README.md" },
      { path: "src/a.py" },
      { path: "src/util/io.py" },
      { path: "/tests//test_a.py" },
    ]);
    expect(tree.files.map((entry) => entry.name)).toEqual(["README.md"]);
    expect(tree.folders.map((folder) => folder.path)).toEqual(["src", "tests"]);
    const src = tree.folders[0]!;
    expect(src.files.map((entry) => entry.file.path)).toEqual(["src/a.py", "src/b.py"]);
    expect(src.folders[0]).toMatchObject({ name: "util", path: "src/util" });
    expect(tree.folders[1]!.files[0]!.name).toBe("test_a.py");
  });

  it("skips paths without a name", () => {
    expect(buildTree([{ path: "" }, { path: "/" }])).toEqual({ name: "", path: "", folders: [], files: [] });
  });
});
