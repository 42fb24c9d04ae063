/// <reference lib="dom" />
/** One select per node that has variants, showing the user's pick or the node's default variant. */
import { el } from '../dom';
import { effectivePicks, type VariantChoice } from '../../shared/variantChoices';

export function renderVariants(choices: VariantChoice[], picks: Record<string, string>, runActive: boolean): Node[] {
  if (choices.length === 0) return [];
  const chosen = effectivePicks(choices, picks);
  const rows = choices.map((c) => {
    const select = el(
      'select',
      { 'data-variant': c.node, 'aria-label': `Variant of ${c.node}`, disabled: runActive },
      ...c.variants.map((id) => el('option', { value: id, selected: id === chosen[c.node] }, id === c.defaultId ? `${id} (default)` : id)),
    );
    (select as HTMLSelectElement).value = chosen[c.node];
    return el('label', { class: 'variant' }, el('span', { class: 'variant-node' }, c.node), select);
  });
  return [el('div', { class: 'variants', 'data-testid': 'variants' }, el('h3', {}, 'Variants'), ...rows)];
}
