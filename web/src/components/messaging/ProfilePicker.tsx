import { Loader, Select } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { apiFetch, withQuery, type ProfileSummary, type SearchPage } from '../../api';

export interface PickedProfile {
  id: string;
  label: string;
}

function labelOf(profile: ProfileSummary, unnamed: string): string {
  return profile.display_name || (typeof profile.traits.email === 'string' ? profile.traits.email : '') || `${unnamed} (${profile.id})`;
}

/** The sample person a preview is rendered for: someone with a first name when there is one. */
export function pickSample(items: ProfileSummary[], unnamed: string): PickedProfile | null {
  const named = items.find((p) => typeof p.traits.firstName === 'string' || typeof p.traits.first_name === 'string');
  const chosen = named ?? items.find((p) => p.display_name) ?? items[0];
  return chosen ? { id: chosen.id, label: labelOf(chosen, unnamed) } : null;
}

/** Search people by name, e-mail or phone (GET /api/profiles?q=) and choose one. */
export function ProfilePicker({
  value,
  onChange,
  label,
}: {
  value: PickedProfile | null;
  onChange: (profile: PickedProfile) => void;
  label: string;
}) {
  const { t } = useTranslation();
  const [search, setSearch] = useState('');
  const [debounced] = useDebouncedValue(search, 300);
  const [found, setFound] = useState<PickedProfile[]>([]);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const q = debounced.trim();
    // The chosen person's own label is in the box after a choice: no need to search it.
    if (!q || q === value?.label) return;
    const controller = new AbortController();
    setLoading(true);
    apiFetch<SearchPage>(withQuery('/api/profiles', { q, limit: 10 }), { signal: controller.signal }).then(
      (page) => {
        if (controller.signal.aborted) return;
        setFound(page.items.map((p) => ({ id: p.id, label: labelOf(p, t('templates.preview.unnamed')) })));
        setError(null);
        setLoading(false);
      },
      (err: unknown) => {
        if (controller.signal.aborted) return;
        setError(err instanceof Error ? err.message : String(err));
        setLoading(false);
      },
    );
    return () => controller.abort();
  }, [debounced, value?.label, t]);

  const data = useMemo(() => {
    const options = [...found];
    if (value && !options.some((o) => o.id === value.id)) options.unshift(value);
    return options.map((o) => ({ value: o.id, label: o.label }));
  }, [found, value]);

  return (
    <Select
      label={label}
      placeholder={t('templates.preview.searchPerson')}
      searchable
      data={data}
      value={value?.id ?? null}
      searchValue={search}
      onSearchChange={setSearch}
      onChange={(id) => {
        const option = data.find((o) => o.value === id);
        if (!option) return;
        setSearch(option.label);
        onChange({ id: option.value, label: option.label });
      }}
      // Choosing the person already chosen calls no onChange: show their name again anyway.
      onOptionSubmit={(id) => {
        const option = data.find((o) => o.value === id);
        if (option) setSearch(option.label);
      }}
      // The server already searched by name, e-mail and phone: keep its answer as it is.
      filter={({ options }) => options}
      nothingFoundMessage={loading ? t('common.loading') : t('templates.preview.nobodyFound')}
      rightSection={loading ? <Loader size="xs" /> : undefined}
      error={error ?? undefined}
      allowDeselect={false}
      comboboxProps={{ withinPortal: true }}
      data-testid="preview-profile"
    />
  );
}
