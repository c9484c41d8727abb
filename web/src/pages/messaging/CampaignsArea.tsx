import { Title } from '@mantine/core';
import { useTranslation } from 'react-i18next';

/** The campaigns screens (nested routes under /campaigns/). */
export default function CampaignsArea() {
  const { t } = useTranslation();
  return (
    <Title order={1} size="h2">
      {t('nav.campaigns')}
    </Title>
  );
}
