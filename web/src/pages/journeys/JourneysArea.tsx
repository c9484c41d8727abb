import { Title } from '@mantine/core';
import { useTranslation } from 'react-i18next';

/** The journeys screens (nested routes under /journeys/). */
export default function JourneysArea() {
  const { t } = useTranslation();
  return (
    <Title order={1} size="h2">
      {t('nav.journeys')}
    </Title>
  );
}
