/** Folders that are not a flow's sources: results, caches, virtual environments and VCS data (never copied, never searched). */
export const NOT_FLOW_SOURCES = new Set([
  '.promptflow',
  '__pycache__',
  '.git',
  '.hg',
  '.svn',
  'node_modules',
  '.venv',
  'venv',
  '.mypy_cache',
  '.pytest_cache',
  '.ruff_cache',
  '.ipynb_checkpoints',
]);
