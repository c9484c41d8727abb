import { Title } from '@mantine/core';
import { useTranslation } from 'react-i18next';

/** The settings screens (nested routes under /settings/). */
export default function SettingsArea() {
  const { t } = useTranslation();
  return (
    <Title order={1} size="h2">
      {t('nav.settings')}
    </Title>
  );
}
