/**
 * A source's heading path below its document title. Heading paths (`Backups > Restoring`) usually start
 * with the document's own title, because its first heading is the title; every place that shows a
 * source next to its title (the prompt's source blocks, the widget, the terminal) leaves that copy out.
 * Compared as ingest compares titles: trimmed and case-insensitive.
 *
 * @example
 * headingBelowTitle('Backups', 'Backups > Restoring') // ['Restoring']
 * headingBelowTitle('导入文档', '导入文档 > 重建知识库') // ['重建知识库']
 * headingBelowTitle('Doc', 'Docker > Compose') // ['Docker', 'Compose']
 */
export function headingBelowTitle(title: string, heading: string): string[] {
  if (heading === '') return [];
  const path = heading.split(' > ');
  const same = title !== '' && path[0]!.trim().toLowerCase() === title.trim().toLowerCase();
  return same ? path.slice(1) : path;
}
