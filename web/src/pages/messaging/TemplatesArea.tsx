import { Title } from '@mantine/core';
import { useTranslation } from 'react-i18next';

/** The templates screens (nested routes under /templates/). */
export default function TemplatesArea() {
  const { t } = useTranslation();
  return (
    <Title order={1} size="h2">
      {t('nav.templates')}
    </Title>
  );
}
