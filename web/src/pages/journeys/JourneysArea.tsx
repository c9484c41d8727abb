import { Route, Routes } from 'react-router';
import NotFoundPage from '../NotFoundPage';
import JourneyBuilderPage from './JourneyBuilderPage';
import JourneysListPage from './JourneysListPage';

/** The journeys screens (nested routes under /journeys/): the list and gallery, and the builder. */
export default function JourneysArea() {
  return (
    <Routes>
      <Route index element={<JourneysListPage />} />
      <Route path=":id" element={<JourneyBuilderPage />} />
      <Route path="*" element={<NotFoundPage />} />
    </Routes>
  );
}
