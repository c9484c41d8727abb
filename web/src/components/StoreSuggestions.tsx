import { Badge, Group, Select, Stack, Text } from '@mantine/core';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { apiFetch, withQuery, type CartItem, type Decimal, type Location } from '../api';
import { formatMoney } from '../format';
import { useApi } from '../useApi';
import { Empty, ErrorNotice, Loading } from './states';

/** GET /api/commerce/availability/{sku}?location_id= */
interface Availability {
  sku: string;
  name: string;
  available: number;
  available_here: number | null;
  locations: { location_id: string; available: number }[];
  substitutes: { sku: string; name: string; price: Decimal; available: number }[];
}

const BRANCH_KEY = 'sampan.branch';

function storedBranch(): string | null {
  try {
    return window.localStorage.getItem(BRANCH_KEY);
  } catch {
    return null;
  }
}

/**
 * What staff can offer at this branch: for each item in the cart, the units on this shelf,
 * or, when it is out here, where else it is and the substitutes this branch has.
 */
export function StoreSuggestions({ items }: { items: CartItem[] }) {
  const { t } = useTranslation();
  const locations = useApi<Location[]>('/api/commerce/locations');
  const branches = (locations.data ?? []).filter((location) => location.kind === 'branch' && location.active);
  const [branch, setBranch] = useState<string | null>(storedBranch);
  const [answers, setAnswers] = useState<{ key: string; data: Availability[] } | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const names = new Map((locations.data ?? []).map((location) => [location.id, location.name]));
  const skus = items.map((item) => item.sku).slice(0, 10);
  const key = branch ? `${branch}|${skus.join(',')}` : '';

  useEffect(() => {
    if (!key || !branch) return;
    const controller = new AbortController();
    setError(null);
    Promise.all(
      skus.map((sku) =>
        apiFetch<Availability>(
          withQuery(`/api/commerce/availability/${encodeURIComponent(sku)}`, { location_id: branch }),
          { signal: controller.signal },
        ),
      ),
    ).then(
      (data) => {
        if (!controller.signal.aborted) setAnswers({ key, data });
      },
      (failure: unknown) => {
        if (!controller.signal.aborted) setError(failure instanceof Error ? failure : new Error(String(failure)));
      },
    );
    return () => controller.abort();
    // `key` carries the branch and the SKUs: the effect runs again only when they change.
  }, [key]);

  function choose(value: string | null) {
    setBranch(value);
    try {
      if (value) window.localStorage.setItem(BRANCH_KEY, value);
    } catch {
      // remembered for this visit only
    }
  }

  return (
    <Stack gap="sm">
      <Select
        label={t('store.branch')}
        description={t('store.branchHint')}
        placeholder={t('store.pickBranch')}
        data={branches.map((location) => ({ value: location.id, label: location.name }))}
        value={branch && branches.some((b) => b.id === branch) ? branch : null}
        onChange={choose}
        searchable
        data-testid="store-branch"
      />
      {items.length === 0 ? (
        <Empty>{t('store.noSuggestions')}</Empty>
      ) : !branch ? null : error ? (
        <ErrorNotice error={error} />
      ) : answers?.key !== key ? (
        <Loading />
      ) : (
        answers.data.map((answer) => {
          const here = answer.available_here ?? 0;
          const elsewhere = answer.locations
            .filter((level) => level.location_id !== branch && level.available > 0)
            .sort((a, b) => b.available - a.available)
            .slice(0, 2);
          return (
            <Stack key={answer.sku} gap={4} data-testid="store-suggestion" data-sku={answer.sku} data-here={here}>
              <Group justify="space-between" wrap="nowrap" gap="xs">
                <Text size="sm" fw={600} style={{ overflowWrap: 'anywhere' }}>
                  {answer.name}
                </Text>
                <Badge color={here > 0 ? 'teal' : 'red'} variant="light" tt="none" style={{ flexShrink: 0 }}>
                  {here > 0 ? t('store.hereUnits', { count: here }) : t('store.outHere')}
                </Badge>
              </Group>
              {here === 0 && elsewhere.length > 0 && (
                <Text size="xs" c="dimmed">
                  {t('store.elsewhere', {
                    places: elsewhere
                      .map((level) => `${names.get(level.location_id) ?? level.location_id} (${level.available})`)
                      .join(', '),
                  })}
                </Text>
              )}
              {here === 0 &&
                answer.substitutes.map((substitute) => (
                  <Text key={substitute.sku} size="xs" data-testid="store-substitute">
                    {t('store.substitute', {
                      name: substitute.name,
                      price: formatMoney(substitute.price),
                      count: substitute.available,
                    })}
                  </Text>
                ))}
            </Stack>
          );
        })
      )}
    </Stack>
  );
}
