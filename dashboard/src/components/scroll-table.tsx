import type { ComponentChildren } from "preact";

/**
 * A table with its column headings, inside a region that scrolls sideways on a narrow screen and
 * takes keyboard focus so that it can be scrolled without a mouse. `children` are its body's rows.
 */
export function ScrollTable({
  label,
  columns,
  children,
}: {
  label: string;
  columns: readonly string[];
  children: ComponentChildren;
}) {
  return (
    <div class="scroll" role="region" aria-label={label} tabIndex={0}>
      <table>
        <thead>
          <tr>
            {columns.map((column) => (
              <th scope="col" key={column}>
                {column}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
